/** Outcome of one inference, as stored in `inference_results` and read back by cds-hooks. */
export type InferenceOutcome = 'ok' | 'error' | 'expired';

/**
 * Postgres NOTIFY channel on which the proxy announces a stored result. Payload: the stored row as JSON, or the bare
 * request id (libs/database result-notification.ts).
 */
export const RESULT_CHANNEL = 'inference_results';
