/** Outcome of one inference, as stored in `inference_results` and read back by cds-hooks. */
export type InferenceOutcome = 'ok' | 'error' | 'expired';

/** Postgres NOTIFY channel on which the proxy announces a stored result (payload: request id). */
export const RESULT_CHANNEL = 'inference_results';
