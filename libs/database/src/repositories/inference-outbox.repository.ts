import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InferenceRequestEntity } from '../entities/inference-request.entity';
import { retryTransient } from '../transient-retry';
import type { NewInferenceRequest } from './inference.repository';
import type { JsonDetail } from './json-detail';

/** What `queue()` did: stored a new request, or found one for the same prompt still running (no new row). */
export type QueuedOrJoined =
  { readonly created: true } | { readonly created: false; readonly requestId: string; readonly deadlineAt: Date };

/** An outbox row the relay now holds (its lease) and must publish, retry later, or expire. */
export interface DueMessage {
  readonly requestId: string;
  readonly message: unknown;
  readonly attempts: number;
  readonly deadlineAt: Date;
}

/**
 * Named SQL: a request for the same prompt inside the reuse window, still running or completed (one that finished
 * while this call was on its way here; its result is read at once).
 */
const LIVE_FOR_PROMPT_SQL = `
  SELECT request_id, deadline_at FROM inference_requests
   WHERE model = $1 AND prompt_hash = $2 AND template_version = $3
     AND (status = 'completed' OR (status IN ('queued', 'running') AND deadline_at > now()))
     AND created_at > $4
   ORDER BY created_at DESC LIMIT 1`;

/** Named SQL: the request's message, behind the request row's INSERT in one statement (parameters from `$n + 1`). */
const OUTBOX_INSERT_SQL = (n: number): string =>
  `INSERT INTO inference_outbox (request_id, message, next_attempt_at) VALUES ($${n + 1}, $${n + 2}, $${n + 3})`;

/** Named SQL: takes up to $1 due rows for $2 ms (SKIP LOCKED: replicas never take the same row at once). */
const CLAIM_DUE_SQL = `
  UPDATE inference_outbox o
     SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
    FROM (SELECT request_id FROM inference_outbox WHERE next_attempt_at <= now()
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due,
         inference_requests r
   WHERE o.request_id = due.request_id AND r.request_id = o.request_id
  RETURNING o.request_id, o.message, o.attempts, r.deadline_at`;

/**
 * `inference_outbox` (issue 18): a request row and its message are committed together, so a request is never on
 * record without a way to publish it. The row goes once a broker took the message; the relay publishes what is
 * left (or the request expires), however long the brokers were away.
 */
@Injectable()
export class InferenceOutboxRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores a new request and its message, unless (with `joinSince`) a request for the same prompt is still
   * running: identical concurrent calls, on any replica, serialise on an advisory lock per prompt and share one
   * request row and one model run. The request row and its message go in one statement. Retried on a cut
   * connection until `untilMs`.
   */
  queue(
    row: NewInferenceRequest,
    message: JsonDetail,
    firstRelayAt: Date,
    joinSince: Date | null,
    untilMs: number,
  ): Promise<QueuedOrJoined> {
    return retryTransient(
      () =>
        this.dataSource.transaction(async (tx): Promise<QueuedOrJoined> => {
          if (joinSince) {
            await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
              `${row.model}|${row.templateVersion}|${row.promptHash}`,
            ]);
            const live: Array<{ request_id: string; deadline_at: Date }> = await tx.query(LIVE_FOR_PROMPT_SQL, [
              row.model,
              row.promptHash,
              row.templateVersion,
              joinSince,
            ]);
            const found = live[0];
            if (found) return { created: false, requestId: found.request_id, deadlineAt: new Date(found.deadline_at) };
          }
          const [requestSql, requestParams] = tx
            .createQueryBuilder()
            .insert()
            .into(InferenceRequestEntity)
            .values({ ...row, status: 'queued' })
            .updateEntity(false)
            .getQueryAndParameters();
          const n = requestParams.length;
          await tx.query(`WITH request AS (${requestSql}) ${OUTBOX_INSERT_SQL(n)}`, [
            ...requestParams,
            row.requestId,
            JSON.stringify(message),
            firstRelayAt,
          ]);
          return { created: true };
        }),
      untilMs,
    );
  }

  /** A broker took the message, or the request was recorded expired. */
  async remove(requestId: string): Promise<void> {
    await this.removeAll([requestId]);
  }

  /** Several delivered messages in one round trip. */
  async removeAll(requestIds: ReadonlyArray<string>): Promise<void> {
    if (requestIds.length === 0) return;
    await this.dataSource.query(`DELETE FROM inference_outbox WHERE request_id = ANY($1::uuid[])`, [[...requestIds]]);
  }

  /** Rows due for (re)publishing, leased for `leaseMs` so a relay that dies mid-way only delays them. */
  async claimDue(limit: number, leaseMs: number): Promise<DueMessage[]> {
    const raw: unknown = await this.dataSource.query(CLAIM_DUE_SQL, [limit, leaseMs]);
    // TypeORM's Postgres driver answers UPDATE ... RETURNING with [rows, affected].
    const rows = (Array.isArray(raw) && Array.isArray(raw[0]) ? raw[0] : raw) as Array<{
      request_id: string;
      message: unknown;
      attempts: number;
      deadline_at: Date;
    }>;
    return rows.map((r) => ({
      requestId: r.request_id,
      message: r.message,
      attempts: r.attempts,
      deadlineAt: new Date(r.deadline_at),
    }));
  }

  async retryAt(requestId: string, at: Date): Promise<void> {
    await this.dataSource.query(`UPDATE inference_outbox SET next_attempt_at = $2 WHERE request_id = $1`, [
      requestId,
      at,
    ]);
  }

  /** Messages not yet taken by a broker (a gauge). */
  async backlog(): Promise<number> {
    const rows: Array<{ n: number }> = await this.dataSource.query(`SELECT count(*)::int AS n FROM inference_outbox`);
    return rows[0]?.n ?? 0;
  }
}
