import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { hotQuery } from '../statements/hot-query';
import { InferenceRequestEntity, type InferenceRequestStatus } from '../entities/inference-request.entity';
import { InferenceResultEntity } from '../entities/inference-result.entity';
import type { JsonDetail } from './json-detail';
import { RESULT_COLUMNS } from './result-columns';
import { notifyStoredSql } from './result-notification';

export { RESULT_COLUMNS };

export type NewInferenceRequest = Omit<InferenceRequestEntity, 'status' | 'contextManifest'> & {
  readonly contextManifest: JsonDetail | null;
};

/** A result row plus the status its request moves to. */
export type StoredResult = InferenceResultEntity & { readonly status: InferenceRequestStatus };

/** Where a request stands, for the proxy deciding whether to run it. */
export type RequestProgress = 'unknown' | 'open' | 'stored';

/** Named SQL: one round trip answering "on record?" and "result stored?" (a LEFT JOIN TypeORM would make two). */
export const REQUEST_PROGRESS_SQL = `
  SELECT (res.request_id IS NOT NULL) AS stored
    FROM inference_requests req LEFT JOIN inference_results res ON res.request_id = req.request_id
   WHERE req.request_id = $1`;

/** The columns of `inference_results` in RESULT_COLUMNS order, as SQL. */
const COLUMN_LIST = RESULT_COLUMNS.map(([c]) => c).join(', ');

/**
 * Named SQL: a batch of results, a row already stored (a redelivery) left as it was; returns the rows it stored
 * (every column, as stored). Parameters from `$offset + 1`, one row after the other in RESULT_COLUMNS order (see
 * `resultParams`).
 */
export function resultInsertSql(rows: number, offset = 0): string {
  const width = RESULT_COLUMNS.length;
  const tuples = Array.from(
    { length: rows },
    (_, r) => `(${RESULT_COLUMNS.map((_c, i) => `$${offset + r * width + i + 1}`).join(', ')})`,
  );
  return `INSERT INTO inference_results (${COLUMN_LIST}) VALUES ${tuples.join(', ')}
    ON CONFLICT DO NOTHING RETURNING ${COLUMN_LIST}`;
}

/** The parameters of `resultInsertSql` for these rows. */
export function resultParams(batch: ReadonlyArray<InferenceResultEntity>): unknown[] {
  return batch.flatMap((r) => RESULT_COLUMNS.map(([, field]) => r[field] ?? null));
}

/**
 * Named SQL: the new status of every request whose result this statement stored (the `stored` CTE's rows), in one
 * statement whatever the batch size. A request whose result was stored already keeps its status with its result (the
 * first write wins for both: a late `expired` from the outbox relay never overwrites a completed request's status).
 */
function statusUpdateSql(rows: number, offset: number): string {
  const tuples = Array.from({ length: rows }, (_, i) => `($${offset + 2 * i + 1}::uuid, $${offset + 2 * i + 2}::text)`);
  return `UPDATE inference_requests r SET status = v.status FROM (VALUES ${tuples.join(', ')}) AS v(id, status)
           WHERE r.request_id = v.id AND v.id IN (SELECT request_id FROM stored)`;
}

/**
 * A data-modifying statement (e.g. the batch's audit events) committed in the same statement as a result batch:
 * given the number of parameters before its own, its SQL (numbered from there) and its parameters.
 */
export type AlongsideStatement = (paramOffset: number) => { sql: string; params: unknown[] };

/**
 * The result store statement of `storeResults` and its parameters: the batch's INSERT (a row already stored left as it
 * was) returning what it stored, `alongside` in the same statement, the statuses of the requests it stored, and with
 * `notify` one NOTIFY per request of the batch (result-notification.ts); it selects the stored rows' columns.
 */
export function resultStoreStatement(
  batch: ReadonlyArray<StoredResult>,
  alongside?: AlongsideStatement,
  notify?: string,
): { sql: string; params: unknown[] } {
  const insertParams = resultParams(batch);
  const statusParams = batch.flatMap((r) => [r.requestId, r.status]);
  const also = alongside?.(insertParams.length + statusParams.length);
  const ctes = [
    `stored AS (${resultInsertSql(batch.length)})`,
    ...(also ? [`alongside AS (${also.sql})`] : []),
    `updated AS (${statusUpdateSql(batch.length, insertParams.length)})`,
  ];
  const params = [...insertParams, ...statusParams, ...(also?.params ?? [])];
  // Data-modifying CTEs always run, referenced or not; the notifications are the statement's own rows.
  const n = params.length;
  return notify
    ? {
        sql: `WITH ${ctes.join(', ')} ${notifyStoredSql(`$${n + 1}`, `$${n + 2}`)}`,
        params: [...params, notify, batch.map((r) => r.requestId)],
      }
    : { sql: `WITH ${ctes.join(', ')} SELECT ${COLUMN_LIST} FROM stored`, params };
}

/** Named SQL: the stored results of some requests (one round trip, no query builder on the result wait's path). */
export const RESULTS_OF_SQL = `SELECT ${COLUMN_LIST}
  FROM inference_results WHERE request_id = ANY($1::uuid[])`;

/** An `inference_results` row (column names as stored) as the entity. */
export function resultOf(row: Record<string, unknown>): InferenceResultEntity {
  return {
    requestId: String(row.request_id),
    outcome: row.outcome as InferenceResultEntity['outcome'],
    backend: row.backend as string | null,
    outputText: row.output_text as string | null,
    errorCode: row.error_code as string | null,
    tokensIn: row.tokens_in as number | null,
    tokensOut: row.tokens_out as number | null,
    latencyMs: row.latency_ms as number,
    completedAt: new Date(row.completed_at as Date),
    hookInstance: row.hook_instance as string | null,
    model: row.model as string | null,
    templateVersion: row.template_version as string | null,
    promptHash: row.prompt_hash as string | null,
    attempts: row.attempts as number | null,
    servedFrom: row.served_from as string | null,
  };
}

/**
 * `inference_requests` and `inference_results`: requests are written by cds-hooks through the outbox
 * (InferenceOutboxRepository), results by the proxy (and by the outbox relay for a request that expired unpublished).
 */
@Injectable()
export class InferenceRepository {
  constructor(private readonly dataSource: DataSource) {}

  async resultsOf(requestIds: ReadonlyArray<string>): Promise<InferenceResultEntity[]> {
    const rows = await hotQuery<Record<string, unknown>>(this.dataSource, RESULTS_OF_SQL, [[...requestIds]]);
    return rows.map(resultOf);
  }

  async progress(requestId: string): Promise<RequestProgress> {
    const rows = await hotQuery<{ stored: boolean }>(this.dataSource, REQUEST_PROGRESS_SQL, [requestId]);
    const row = rows[0];
    if (!row) return 'unknown';
    return row.stored ? 'stored' : 'open';
  }

  /**
   * A batch of results and their request statuses in one statement (a multi-row INSERT and an UPDATE, whatever the
   * batch size: one round trip, atomic without a transaction). A row already stored (a redelivery) is left as it
   * was. `alongside` (the batch's audit events) commits in the same statement. With `notify`, the statement also
   * notifies that Postgres channel once per request of the batch (see result-notification.ts: a row this statement
   * stored travels whole, any other as its bare id). NOTIFY is delivered at commit, so a listener hears of a result
   * only once it is durable, without a second round trip to announce it. The caller retries.
   *
   * Resolves with the rows this statement stored, as stored (from RETURNING); a request whose row was already stored
   * is not among them (the first write wins, and its row is not re-read here).
   */
  async storeResults(
    batch: ReadonlyArray<StoredResult>,
    alongside?: AlongsideStatement,
    notify?: string,
  ): Promise<InferenceResultEntity[]> {
    if (batch.length === 0) return [];
    const { sql, params } = resultStoreStatement(batch, alongside, notify);
    // The text varies with the batch (and its audit events): a quiet system's small batches are prepared.
    const rows = await hotQuery<Record<string, unknown>>(this.dataSource, sql, params, {
      prepare: batch.length <= 2,
    });
    // Over NOTIFY every id of the batch has a row; a conflicting one's columns are null.
    return rows.filter((r) => r.request_id !== null).map(resultOf);
  }
}
