/** The apps' pipeline gauges: what the harness waits on before a step and what the memory probe samples. */

/** Gauges that read 0 when nothing is queued, in flight or waiting to be written. */
export const IDLE_GAUGES = [
  'meditron_proxy_inflight',
  'meditron_proxy_queue_depth',
  'meditron_proxy_backend_outstanding',
  'meditron_proxy_backend_queue_waiting',
  'meditron_proxy_result_write_backlog',
  'meditron_proxy_consumer_lag',
  'meditron_audit_queue_depth',
  // cds-hooks' admitted hook calls (with load shedding, issue 17), when the tree has it.
  'meditron_hooks_in_flight',
  // Requests committed but not yet taken by a broker: the outbox relay's work left over from a saturated step.
  'meditron_cds_outbox_backlog',
] as const;
