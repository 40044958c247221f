import { randomUUID } from 'node:crypto';
import type { AuditRecord } from './audit-record';

export interface QueuedAuditRow extends AuditRecord {
  readonly eventId: string;
  /** When record() was called: the event's time, not the batch's. */
  readonly recordedAt: Date;
}

/** `event` as it is stored: its id (a new one when it has none) and the time it happened (now unless given). */
export function queuedAuditRow(event: AuditRecord, recordedAt: Date = new Date()): QueuedAuditRow {
  return { ...event, eventId: event.eventId ?? randomUUID(), recordedAt };
}

const COLUMNS = [
  'event_id',
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

/**
 * One multi-row INSERT; id, prev_hash and hash come from the chain trigger, in VALUES order. The trigger skips a
 * row whose event id is already stored (a replay, or a retry after a lost commit acknowledgement). `paramOffset`:
 * parameters numbered from `$paramOffset + 1`, for an INSERT run inside another statement (as a CTE).
 */
export function batchInsert(rows: ReadonlyArray<QueuedAuditRow>, paramOffset = 0): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const tuples = rows.map((r) => {
    const base = params.length;
    params.push(
      r.eventId,
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
      (c, i) =>
        `$${paramOffset + base + i + 1}${c === 'hook_instance' || c === 'event_id' ? '::uuid' : c === 'detail' ? '::jsonb' : ''}`,
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

/**
 * The event-id index (or a partition's copy of it) refused a row: it is stored already. Only a race the chain
 * trigger's lock rules out gets here; the statement rolled back, so the chain head is untouched.
 */
export function isAlreadyStored(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, constraint } = e as { code?: unknown; constraint?: unknown };
  return code === '23505' && typeof constraint === 'string' && /event_id/.test(constraint);
}
