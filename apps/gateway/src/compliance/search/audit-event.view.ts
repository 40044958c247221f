import type { AuditDetail, AuditOutcome } from '@app/database';

/** One audit row as the compliance API shows it. */
export interface AuditEventView {
  readonly id: string;
  readonly recordedAt: string;
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly service: string;
  readonly actor: string | null;
  readonly clientId: string | null;
  readonly tenant: string | null;
  readonly patientRef: string | null;
  readonly requestId: string | null;
  readonly hookInstance: string | null;
  readonly detail: AuditDetail;
  readonly prevHash: string;
  readonly hash: string;
}

/** Columns selected into AuditEventView, in its field order. */
export const AUDIT_EVENT_VIEW_COLUMNS = `
  id::text AS "id", to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "recordedAt",
  action AS "action", outcome AS "outcome", service AS "service", actor AS "actor", client_id AS "clientId",
  tenant AS "tenant", patient_ref AS "patientRef", request_id AS "requestId", hook_instance::text AS "hookInstance",
  detail AS "detail", prev_hash AS "prevHash", hash AS "hash"`;

export const AUDIT_EVENT_VIEW_FIELDS: ReadonlyArray<keyof AuditEventView> = [
  'id',
  'recordedAt',
  'action',
  'outcome',
  'service',
  'actor',
  'clientId',
  'tenant',
  'patientRef',
  'requestId',
  'hookInstance',
  'detail',
  'prevHash',
  'hash',
];
