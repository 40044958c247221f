import type { AuditRecord } from './audit-record';

export interface QueuedAuditRow extends AuditRecord {
  /** When record() was called: the event's time, not the batch's. */
  readonly recordedAt: Date;
}

const COLUMNS = [
  'recorded_at',
  'action',
  'outcome',
  'service',
  'actor',
  'client_id',
  'tenant',
  'patient_ref',
  'request_id',
  'hook_instance',
  'detail',
] as const;

/** One multi-row INSERT; id, prev_hash and hash come from the chain trigger, in VALUES order. */
export function batchInsert(rows: ReadonlyArray<QueuedAuditRow>): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const tuples = rows.map((r) => {
    const base = params.length;
    params.push(
      r.recordedAt,
      r.action,
      r.outcome,
      r.service,
      r.actor ?? null,
      r.clientId ?? null,
      r.tenant ?? null,
      r.patientRef ?? null,
      r.requestId ?? null,
      r.hookInstance ?? null,
      JSON.stringify(r.detail ?? {}),
    );
    const p = COLUMNS.map(
      (c, i) => `$${base + i + 1}${c === 'hook_instance' ? '::uuid' : c === 'detail' ? '::jsonb' : ''}`,
    );
    return `(${p.join(', ')})`;
  });
  return { sql: `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params };
}

/** Data and constraint errors (SQLSTATE classes 22, 23): retrying the same row cannot succeed. */
export function isPermanentRowError(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  return /^(22|23)/.test(code);
}
