import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditDetail, AuditOutcome } from '../entities';

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

/** What a compliance search can filter on; every field is optional and they combine with AND. */
export interface AuditSearchFilters {
  readonly patient?: string;
  /** Inclusive lower bound on recorded_at. */
  readonly from?: Date;
  /** Exclusive upper bound on recorded_at. */
  readonly to?: Date;
  readonly client?: string;
  readonly actor?: string;
  /** Matches actor or client (FHIR `agent`). */
  readonly agent?: string;
  readonly actions?: ReadonlyArray<string>;
  readonly excludeActions?: ReadonlyArray<string>;
  readonly outcome?: 'success' | 'failure' | 'refused';
  readonly hookInstance?: string;
  readonly requestId?: string;
}

export interface AuditPage {
  readonly items: AuditEventView[];
  /** Id of the last item when more rows follow; null on the last page. */
  readonly nextAfterId: string | null;
}

/** Columns selected into AuditEventView, in its field order. */
const VIEW_COLUMNS = `
  id::text AS "id", to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "recordedAt",
  action AS "action", outcome AS "outcome", service AS "service", actor AS "actor", client_id AS "clientId",
  tenant AS "tenant", patient_ref AS "patientRef", request_id AS "requestId", hook_instance::text AS "hookInstance",
  detail AS "detail", prev_hash AS "prevHash", hash AS "hash"`;

const SQL = {
  byId: `SELECT ${VIEW_COLUMNS} FROM audit_events WHERE audit_events.id = $1`,
  // A call's events in the order they happened (their recorded_at), chain order between equal times: the chain orders
  // commits, and a quick call's `hook.invoked` commits with its `hook.answered`, after the proxy's `inference.completed`.
  byHookInstance: `SELECT ${VIEW_COLUMNS} FROM audit_events WHERE hook_instance = $1::uuid
    ORDER BY audit_events.recorded_at, audit_events.id LIMIT $2`,
} as const;

/**
 * Reads of `audit_events` for the compliance API. Keyset search, newest first: every filter has an `(x, id)` index
 * (hash-chain migration), so a page reads about `limit` index entries whatever the table size.
 */
@Injectable()
export class AuditEventRepository {
  constructor(private readonly ds: DataSource) {}

  async page(filters: AuditSearchFilters, limit: number, beforeId?: string): Promise<AuditPage> {
    const { where, params } = whereClause(filters, beforeId);
    params.push(limit + 1);
    const rows: AuditEventView[] = await this.ds.query(
      `SELECT ${VIEW_COLUMNS} FROM audit_events ${where} ORDER BY audit_events.id DESC LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    return { items, nextAfterId: more ? (items[items.length - 1]?.id ?? null) : null };
  }

  async byId(id: string): Promise<AuditEventView | null> {
    const rows: AuditEventView[] = await this.ds.query(SQL.byId, [id]);
    return rows[0] ?? null;
  }

  /** The trail of one hook call, oldest first (by when each event happened, not when it committed). */
  byHookInstance(hookInstance: string, max: number): Promise<AuditEventView[]> {
    return this.ds.query(SQL.byHookInstance, [hookInstance, max]);
  }
}

function whereClause(f: AuditSearchFilters, beforeId?: string): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(sql(`$${params.length}`));
  };
  if (beforeId !== undefined) add((p) => `audit_events.id < ${p}::bigint`, beforeId);
  if (f.patient !== undefined) add((p) => `patient_ref = ${p}`, f.patient);
  if (f.from !== undefined) add((p) => `recorded_at >= ${p}`, f.from);
  if (f.to !== undefined) add((p) => `recorded_at < ${p}`, f.to);
  if (f.client !== undefined) add((p) => `client_id = ${p}`, f.client);
  if (f.actor !== undefined) add((p) => `actor = ${p}`, f.actor);
  if (f.agent !== undefined) add((p) => `(actor = ${p} OR client_id = ${p})`, f.agent);
  if (f.actions !== undefined) add((p) => `action = ANY(${p}::text[])`, f.actions);
  if (f.excludeActions !== undefined) add((p) => `action <> ALL(${p}::text[])`, f.excludeActions);
  if (f.outcome !== undefined) add((p) => `outcome = ${p}`, f.outcome);
  if (f.hookInstance !== undefined) add((p) => `hook_instance = ${p}::uuid`, f.hookInstance);
  if (f.requestId !== undefined) add((p) => `request_id = ${p}`, f.requestId);
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}
