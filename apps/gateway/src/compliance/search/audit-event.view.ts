import type { AuditEventView } from '@app/database';

export type { AuditEventView } from '@app/database';

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
