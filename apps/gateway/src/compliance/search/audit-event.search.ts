import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditSearchFilters } from './audit-search.filters';
import { AUDIT_EVENT_VIEW_COLUMNS, type AuditEventView } from './audit-event.view';

export interface AuditPage {
  readonly items: AuditEventView[];
  /** Id of the last item when more rows follow; null on the last page. */
  readonly nextAfterId: string | null;
}

/**
 * Keyset search over audit_events, newest first. Every filter has an `(x, id)` index (hash-chain migration), so a
 * page reads about `limit` index entries whatever the table size.
 */
@Injectable()
export class AuditEventSearch {
  constructor(private readonly ds: DataSource) {}

  async page(filters: AuditSearchFilters, limit: number, beforeId?: string): Promise<AuditPage> {
    const { where, params } = whereClause(filters, beforeId);
    params.push(limit + 1);
    const rows: AuditEventView[] = await this.ds.query(
      `SELECT ${AUDIT_EVENT_VIEW_COLUMNS} FROM audit_events ${where} ORDER BY audit_events.id DESC LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    return { items, nextAfterId: more ? (items[items.length - 1]?.id ?? null) : null };
  }

  async byId(id: string): Promise<AuditEventView | null> {
    const rows: AuditEventView[] = await this.ds.query(
      `SELECT ${AUDIT_EVENT_VIEW_COLUMNS} FROM audit_events WHERE audit_events.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Every matching row, page by page, for exports: memory stays at one page whatever the result size. */
  async *all(filters: AuditSearchFilters, pageSize = 1000): AsyncGenerator<AuditEventView[]> {
    let before: string | undefined;
    for (;;) {
      const page = await this.page(filters, pageSize, before);
      if (page.items.length > 0) yield page.items;
      if (!page.nextAfterId) return;
      before = page.nextAfterId;
    }
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
