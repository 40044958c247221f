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

/** The SQL type of each column (audit_events and audit_inbox alike). */
const COLUMN_TYPES: Record<(typeof COLUMNS)[number], string> = {
  event_id: 'uuid',
  recorded_at: 'timestamptz',
  action: 'text',
  outcome: 'text',
  service: 'text',
  actor: 'text',
  client_id: 'text',
  tenant: 'text',
  patient_ref: 'text',
  request_id: 'text',
  hook_instance: 'uuid',
  detail: 'jsonb',
};

/** Where a batch of events is written: the chain, or the unchained inbox a business transaction writes (see below). */
export type AuditTarget = 'audit_events' | 'audit_inbox';

/** The rows as one VALUES list in COLUMNS order, parameters numbered from `$paramOffset + 1`. */
function valuesOf(rows: ReadonlyArray<QueuedAuditRow>, paramOffset: number): { values: string; params: unknown[] } {
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
    // Every value typed, so the list means the same inside a SELECT (the draining batch) as in a plain INSERT.
    const p = COLUMNS.map((c, i) => `$${paramOffset + base + i + 1}::${COLUMN_TYPES[c]}`);
    return `(${p.join(', ')})`;
  });
  return { values: `VALUES ${tuples.join(', ')}`, params };
}

/**
 * One multi-row INSERT. Into `audit_events`, id, prev_hash and hash come from the chain trigger, in VALUES order; the
 * trigger skips a row whose event id is already stored (a replay, or a retry after a lost commit acknowledgement).
 * Into `audit_inbox` (migration 1764560000000): unchained and without the chain's lock, for events that must commit
 * with a business transaction (the proxy's result store); a later audit_inbox_drain() chains them. `paramOffset`:
 * parameters numbered from `$paramOffset + 1`, for an INSERT run inside another statement (as a CTE).
 */
export function batchInsert(
  rows: ReadonlyArray<QueuedAuditRow>,
  paramOffset = 0,
  into: AuditTarget = 'audit_events',
): { sql: string; params: unknown[] } {
  const { values, params } = valuesOf(rows, paramOffset);
  return { sql: `INSERT INTO ${into} (${COLUMNS.join(', ')}) ${values}`, params };
}

/**
 * An AuditWriter batch: first up to `drainMax` inbox events are chained (audit_inbox_drain, oldest first), then the
 * batch's own rows, in one statement, so an event a business transaction committed before this batch was written
 * comes before it in the chain. The join is what orders them: the INSERT gets no row before the drain's one row.
 */
export function drainingBatchInsert(
  rows: ReadonlyArray<QueuedAuditRow>,
  drainMax: number,
): { sql: string; params: unknown[] } {
  const { values, params } = valuesOf(rows, 0);
  const cols = COLUMNS.join(', ');
  return {
    sql:
      `WITH inbox AS MATERIALIZED (SELECT audit_inbox_drain($${params.length + 1}::int) AS moved) ` +
      `INSERT INTO audit_events (${cols}) SELECT ${COLUMNS.map((c) => `v.${c}`).join(', ')} ` +
      `FROM (${values}) AS v(${cols}) CROSS JOIN inbox`,
    params: [...params, drainMax],
  };
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
