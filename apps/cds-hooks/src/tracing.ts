/** First module main.ts loads: starts OpenTelemetry before anything it instruments is required (see sdk.ts). */
import { startTracing } from '@app/observability/tracing/sdk';

export const tracing = startTracing('meditron-cds-hooks');
