import type { AuditDetail, AuditOutcome } from '@app/database';

/** One thing that happened, as the audit trail records it. No clinical free text, no tokens. */
export interface AuditRecord {
  /**
   * Unique per event; the writer makes one when absent. Give a deterministic one (uuid v5 of what the event is
   * about) when the same event may be recorded again after a crash, so it is stored once.
   */
  readonly eventId?: string;
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly service: 'gateway' | 'cds-hooks' | 'inference-proxy';
  readonly actor?: string | null;
  readonly clientId?: string | null;
  readonly tenant?: string | null;
  readonly patientRef?: string | null;
  readonly requestId?: string | null;
  readonly hookInstance?: string | null;
  readonly detail?: AuditDetail;
}
