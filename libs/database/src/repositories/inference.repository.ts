import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InferenceRequestEntity, type InferenceRequestStatus } from '../entities/inference-request.entity';
import { InferenceResultEntity } from '../entities/inference-result.entity';
import { retryTransient } from '../transient-retry';
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

/** A prompt whose recent requests may serve a call: same model, template and hash, created after `since`. */
export interface ReuseLookup {
  readonly model: string;
  readonly promptHash: string;
  readonly templateVersion: string;
  readonly since: Date;
  readonly take: number;
}

/** A recent request for the same prompt, with its result when it completed with a good one (`ok`). */
export interface ReuseCandidate {
  readonly requestId: string;
  readonly status: InferenceRequestStatus;
  readonly deadlineAt: Date;
  readonly result: InferenceResultEntity | null;
}

/**
 * Named SQL: the newest live or completed requests for a prompt, each with its good result if it has one, in one
 * round trip (parameters from `$offset + 1`: model, prompt hash, template version, since, how many).
 */
export function REUSE_CANDIDATES_SQL(offset: number): string {
  const p = (i: number): string => `$${offset + i}`;
  return `SELECT r.request_id, r.status, r.deadline_at, res.request_id AS result_request_id, res.outcome,
       res.backend, res.output_text, res.error_code, res.tokens_in, res.tokens_out, res.latency_ms, res.completed_at,
       res.hook_instance, res.model AS result_model, res.template_version AS result_template_version,
       res.prompt_hash AS result_prompt_hash, res.attempts, res.served_from
  FROM inference_requests r
  LEFT JOIN inference_results res ON res.request_id = r.request_id AND r.status = 'completed' AND res.outcome = 'ok'
 WHERE r.model = ${p(1)} AND r.prompt_hash = ${p(2)} AND r.template_version = ${p(3)}
   AND r.status IN ('queued', 'running', 'completed') AND r.created_at > ${p(4)}
 ORDER BY r.created_at DESC LIMIT ${p(5)}`;
}

/** A row of `REUSE_CANDIDATES_SQL` as a candidate. */
export function reuseCandidateOf(row: Record<string, unknown>): ReuseCandidate {
  const requestId = String(row.request_id);
  const result: InferenceResultEntity | null =
    row.result_request_id === null || row.result_request_id === undefined
      ? null
      : resultOf({
          ...row,
          request_id: requestId,
          model: row.result_model,
          template_version: row.result_template_version,
          prompt_hash: row.result_prompt_hash,
        });
  return {
    requestId,
    status: row.status as InferenceRequestStatus,
    deadlineAt: new Date(row.deadline_at as Date),
    result,
  };
}

/** Named SQL: the stored results of some requests (one round trip, no query builder on the result wait's path). */
const RESULTS_OF_SQL = `SELECT request_id, outcome, backend, output_text, error_code, tokens_in, tokens_out, latency_ms,
       completed_at, hook_instance, model, template_version, prompt_hash, attempts, served_from
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

  /** The recent requests that might serve a prompt (see `REUSE_CANDIDATES_SQL`); retried until `untilMs`. */
  async reuseCandidates(lookup: ReuseLookup, untilMs: number): Promise<ReuseCandidate[]> {
    const rows: Array<Record<string, unknown>> = await retryTransient(
      () =>
        this.dataSource.query(REUSE_CANDIDATES_SQL(0), [
          lookup.model,
          lookup.promptHash,
          lookup.templateVersion,
          lookup.since,
          lookup.take,
        ]),
      untilMs,
    );
    return rows.map(reuseCandidateOf);
  }

  async resultsOf(requestIds: ReadonlyArray<string>): Promise<InferenceResultEntity[]> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(RESULTS_OF_SQL, [[...requestIds]]);
    return rows.map(resultOf);
  }

  async progress(requestId: string): Promise<RequestProgress> {
    const rows: Array<{ stored: boolean }> = await this.dataSource.query(REQUEST_PROGRESS_SQL, [requestId]);
    const row = rows[0];
    if (!row) return 'unknown';
    return row.stored ? 'stored' : 'open';
  }

  /**
   * A batch of results and their request statuses in one statement (a multi-row INSERT and an UPDATE, whatever the
   * batch size: one round trip, atomic without a transaction). A row already stored (a redelivery) is left as it
   * was. `alongside` (the batch's audit events) commits in the same statement. The caller retries.
   */
  async storeResults(batch: ReadonlyArray<StoredResult>, alongside?: AlongsideStatement): Promise<void> {
    if (batch.length === 0) return;
    const [insertSql, insertParams] = this.dataSource
      .createQueryBuilder()
      .insert()
      .into(InferenceResultEntity)
      .values(batch.map(({ status: _status, ...row }) => row))
      .orIgnore()
      .updateEntity(false)
      .getQueryAndParameters();
    const statusParams = batch.flatMap((r) => [r.requestId, r.status]);
    const also = alongside?.(insertParams.length + statusParams.length);
    const ctes = [`stored AS (${insertSql})`, ...(also ? [`alongside AS (${also.sql})`] : [])];
    await this.dataSource.query(`WITH ${ctes.join(', ')} ${statusUpdateSql(batch.length, insertParams.length)}`, [
      ...insertParams,
      ...statusParams,
      ...(also?.params ?? []),
    ]);
  }
}
