/** Why the audit trail refused or failed something; mapped to HTTP status or log reason at the edge. */
export enum AuditExceptionCode {
  /** The in-memory queue is at its bound: the caller must not proceed as if the event were recorded. */
  QUEUE_FULL = 'AUDIT_QUEUE_FULL',
  /** The writer is closing or closed. */
  WRITER_CLOSED = 'AUDIT_WRITER_CLOSED',
  /** Not committed within maxWaitMs: the caller is released, the event stays queued and is still written. */
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
