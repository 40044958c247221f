import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { hotQuery } from '../statements/hot-query';
import { InferenceRequestEntity, type InferenceRequestStatus } from '../entities/inference-request.entity';
import { InferenceResultEntity } from '../entities/inference-result.entity';
import type { JsonDetail } from './json-detail';

export type NewInferenceRequest = Omit<InferenceRequestEntity, 'status' | 'contextManifest'> & {
  readonly contextManifest: JsonDetail | null;
};

/** A result row plus the status its request moves to. */
export type StoredResult = InferenceResultEntity & { readonly status: InferenceRequestStatus };

/** Where a request stands, for the proxy deciding whether to run it. */
export type RequestProgress = 'unknown' | 'open' | 'stored';

/** Named SQL: one round trip answering "on record?" and "result stored?" (a LEFT JOIN TypeORM would make two). */
const REQUEST_PROGRESS_SQL = `
  SELECT (res.request_id IS NOT NULL) AS stored
    FROM inference_requests req LEFT JOIN inference_results res ON res.request_id = req.request_id
   WHERE req.request_id = $1`;

/**
 * `inference_results`' columns, each with the entity field it stores: the result batch's INSERT is written here
 * rather than through TypeORM's QueryBuilder, which re-derived the same statement from entity metadata on every
 * batch (a measurable share of the proxy's CPU per hook).
 */
export const RESULT_COLUMNS = [
  ['request_id', 'requestId'],
  ['outcome', 'outcome'],
  ['backend', 'backend'],
  ['output_text', 'outputText'],
  ['error_code', 'errorCode'],
  ['tokens_in', 'tokensIn'],
  ['tokens_out', 'tokensOut'],
  ['latency_ms', 'latencyMs'],
  ['completed_at', 'completedAt'],
  ['hook_instance', 'hookInstance'],
  ['model', 'model'],
  ['template_version', 'templateVersion'],
  ['prompt_hash', 'promptHash'],
  ['attempts', 'attempts'],
  ['served_from', 'servedFrom'],
] as const satisfies ReadonlyArray<readonly [string, keyof InferenceResultEntity]>;

/**
 * Named SQL: a batch of results, a row already stored (a redelivery) left as it was. Parameters from
 * `$offset + 1`, one row after the other in RESULT_COLUMNS order (see `resultParams`).
 */
export function resultInsertSql(rows: number, offset = 0): string {
  const width = RESULT_COLUMNS.length;
  const tuples = Array.from(
    { length: rows },
    (_, r) => `(${RESULT_COLUMNS.map((_c, i) => `$${offset + r * width + i + 1}`).join(', ')})`,
  );
  return `INSERT INTO inference_results (${RESULT_COLUMNS.map(([c]) => c).join(', ')}) VALUES ${tuples.join(', ')}
    ON CONFLICT DO NOTHING`;
}

/** The parameters of `resultInsertSql` for these rows. */
export function resultParams(batch: ReadonlyArray<InferenceResultEntity>): unknown[] {
  return batch.flatMap((r) => RESULT_COLUMNS.map(([, field]) => r[field] ?? null));
}

/** Named SQL: every request's new status in one statement, whatever the batch size. */
function statusUpdateSql(rows: number, offset: number): string {
  const tuples = Array.from({ length: rows }, (_, i) => `($${offset + 2 * i + 1}::uuid, $${offset + 2 * i + 2}::text)`);
  return `UPDATE inference_requests r SET status = v.status FROM (VALUES ${tuples.join(', ')}) AS v(id, status)
           WHERE r.request_id = v.id`;
}

/**
 * A data-modifying statement (e.g. the batch's audit events) committed in the same statement as a result batch:
 * given the number of parameters before its own, its SQL (numbered from there) and its parameters.
 */
export type AlongsideStatement = (paramOffset: number) => { sql: string; params: unknown[] };

/** Named SQL: the stored results of some requests (one round trip, no query builder on the result wait's path). */
const RESULTS_OF_SQL = `SELECT ${RESULT_COLUMNS.map(([c]) => c).join(', ')}
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
   * sends each row's request id on that Postgres channel: NOTIFY is delivered at commit, so a listener hears of a
   * result only once it is durable, without a second round trip to announce it. The caller retries.
   */
  async storeResults(
    batch: ReadonlyArray<StoredResult>,
    alongside?: AlongsideStatement,
    notify?: string,
  ): Promise<void> {
    if (batch.length === 0) return;
    const insertParams = resultParams(batch);
    const insertSql = resultInsertSql(batch.length);
    const statusParams = batch.flatMap((r) => [r.requestId, r.status]);
    const also = alongside?.(insertParams.length + statusParams.length);
    const ctes = [`stored AS (${insertSql})`, ...(also ? [`alongside AS (${also.sql})`] : [])];
    const update = statusUpdateSql(batch.length, insertParams.length);
    const params = [...insertParams, ...statusParams, ...(also?.params ?? [])];
    // Data-modifying CTEs always run; the notifications are the statement's own rows, one per request.
    const n = params.length;
    const sql = notify
      ? `WITH ${[...ctes, `updated AS (${update})`].join(', ')}
         SELECT pg_notify($${n + 1}, id) FROM unnest($${n + 2}::text[]) AS id`
      : `WITH ${ctes.join(', ')} ${update}`;
    // The text varies with the batch (and its audit events): a quiet system's small batches are prepared.
    await hotQuery(this.dataSource, sql, notify ? [...params, notify, batch.map((r) => r.requestId)] : params, {
      prepare: batch.length <= 2,
    });
  }
}
