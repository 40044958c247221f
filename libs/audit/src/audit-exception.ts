/** Why the audit trail refused or failed something; mapped to HTTP status or log reason at the edge. */
export enum AuditExceptionCode {
  /**
   * The queue or the spool is at its bound (or refusals at their share): the caller must not proceed as if the
   * event were recorded (cds-hooks answers 503 + Retry-After).
   */
  QUEUE_FULL = 'AUDIT_QUEUE_FULL',
  /** The writer is closing or closed. */
  WRITER_CLOSED = 'AUDIT_WRITER_CLOSED',
  /**
   * Not committed within maxWaitMs and not in the spool (spool off or failing): the caller is released, the event
   * stays queued in memory and is still written unless the process dies first.
   */
  WRITE_TIMEOUT = 'AUDIT_WRITE_TIMEOUT',
  /** Shutdown could not flush these events in time. */
  FLUSH_TIMEOUT = 'AUDIT_FLUSH_TIMEOUT',
}

export class AuditException extends Error {
  constructor(
    readonly code: AuditExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuditException';
  }
}
