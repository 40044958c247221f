/**
 * Sent by the gateway on every forwarded call: how long (ms, relative, so no clock skew) it waits for the answer
 * before giving up with a 504. cds-hooks answers before then, whatever the service budgets are configured to.
 */
export const UPSTREAM_TIMEOUT_HEADER = 'x-meditron-upstream-timeout-ms';
