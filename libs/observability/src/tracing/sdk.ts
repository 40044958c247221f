/**
 * Starts the OpenTelemetry SDK when an OTLP endpoint is configured (the standard OTEL_* variables: endpoint,
 * protocol, headers, sampler, batch processor, resource attributes). Imported by each app's `tracing.ts`, the
 * first module its `main.ts` loads, so the instrumentations hook http, express, pg and kafkajs before anything
 * requires them. Without an endpoint nothing is loaded: the SDK packages are required only here, lazily.
 */
import type { IncomingMessage } from 'node:http';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { redactUrlAttributes } from './redaction';

export interface Tracing {
  /** Flushes the spans still batched and stops exporting. */
  shutdown(): Promise<void>;
}

/** Paths probed many times a minute: no spans. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|$|\?)/;

/** True when an OTLP traces endpoint is configured and the SDK is not disabled. */
export function tracingConfigured(env: NodeJS.ProcessEnv): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  if (env['OTEL_TRACES_EXPORTER']?.trim().toLowerCase() === 'none') return false;
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

/** Starts tracing for `serviceName` (OTEL_SERVICE_NAME wins) when configured; undefined otherwise. */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (!tracingConfigured(env)) return undefined;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on */
  const { NodeSDK: Sdk } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation, ExpressLayerType } =
    require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { KafkaJsInstrumentation } =
    require('@opentelemetry/instrumentation-kafkajs') as typeof import('@opentelemetry/instrumentation-kafkajs');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const sdk: NodeSDK = new Sdk({
    serviceName: env['OTEL_SERVICE_NAME'] || serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) => UNTRACED_PATHS.test(req.url ?? ''),
        // Outgoing calls are spanned by hand (gateway forward, FHIR, model backends) with the attributes we choose;
        // the http module's own clients (none on the hook path) are not traced.
        disableOutgoingRequestInstrumentation: true,
        requestHook: (span) => redactUrlAttributes(span),
      }),
      // Route handlers only: Nest's middleware stack would add a dozen spans per call and say nothing.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      // No statement parameters (enhancedDatabaseReporting off) and no spans outside a traced call (polls, LISTEN).
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
      new KafkaJsInstrumentation({}),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
