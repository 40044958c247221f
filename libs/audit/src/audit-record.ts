import type { AuditDetail, AuditOutcome } from '@app/database';

/** One thing that happened, as the audit trail records it. No clinical free text, no tokens. */
export interface AuditRecord {
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
