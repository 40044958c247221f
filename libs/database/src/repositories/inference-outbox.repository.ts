import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { hotQuery } from '../statements/hot-query';
import type { InferenceResultEntity } from '../entities/inference-result.entity';
import { retryTransient } from '../transient-retry';
import type { NewHookInvocation } from './hook-invocation.repository';
import { resultOf, type NewInferenceRequest } from './inference.repository';
import type { JsonDetail } from './json-detail';

/** What `queue()` did: stored a new request, or found one for the same prompt still running (no new row). */
export type QueuedOrJoined =
  { readonly created: true } | { readonly created: false; readonly requestId: string; readonly deadlineAt: Date };

/** One dispatch of a hook call's prompt (see `start()`). */
export interface HookStart {
  /** The call's own row, stored first; null when it is stored already (a prewarm, a repair). */
  readonly call: NewHookInvocation | null;
  /** Recent requests for the prompt created after this may serve it; null: no reuse. */
  readonly reuseSince: Date | null;
  /** How many of them are looked at, newest first. */
  readonly reuseTake: number;
  /** When the call was received (its row's `received_at`): a running request serves it only if its deadline is later. */
  readonly now: Date;
  /** The request to queue if nothing serves the call, with its message. */
  readonly request: NewInferenceRequest;
  readonly message: JsonDetail;
  readonly firstRelayAt: Date;
  /** `queue()`'s join window: a live request for the prompt created after this is joined. */
  readonly joinSince: Date | null;
}

/** How a dispatch was served: a stored good result, a request still running, the new request, or one joined. */
export type Dispatched =
  | { readonly kind: 'result'; readonly requestId: string; readonly result: InferenceResultEntity }
  | { readonly kind: 'pending' | 'joined'; readonly requestId: string; readonly deadlineAt: Date }
  | { readonly kind: 'created' };

/** Named SQL: `start()` in one statement (migration 1764510000000, `hook_start`). */
export const START_SQL = `SELECT kind, request_id, deadline_at, result
  FROM hook_start($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18::jsonb, $19, $20::jsonb,
                  $21, $22)`;

/** Named SQL: the rows of delivered messages (or of requests recorded expired), several in one statement. */
export const OUTBOX_DELETE_SQL = `DELETE FROM inference_outbox WHERE request_id = ANY($1::uuid[])`;

/** An outbox row the relay now holds (its lease) and must publish, retry later, or expire. */
export interface DueMessage {
  readonly requestId: string;
  readonly message: unknown;
  readonly attempts: number;
  readonly deadlineAt: Date;
}

/**
 * Named SQL: the request and its message stored, or (with a join window, $12) a live request for the same prompt
 * found under the per-prompt advisory lock: one statement (migration 1764500000000, `inference_queue`).
 */
const QUEUE_SQL = `SELECT created, found_request_id, found_deadline_at
  FROM inference_queue($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10::jsonb, $11, $12)`;

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
   * request row and one model run. Lock, look-up and both rows are one statement (one round trip, its own
   * transaction). Retried on a cut connection until `untilMs`. The hook path uses `start()`, which runs this same
   * function after its reuse look-up; this is its statement on its own (as replicas older than `hook_start` run it).
   */
  queue(
    row: NewInferenceRequest,
    message: JsonDetail,
    firstRelayAt: Date,
    joinSince: Date | null,
    untilMs: number,
  ): Promise<QueuedOrJoined> {
    return retryTransient(async (): Promise<QueuedOrJoined> => {
      const rows: Array<{ created: boolean; found_request_id: string; found_deadline_at: Date }> =
        await this.dataSource.query(QUEUE_SQL, [
          row.requestId,
          row.hookInvocationId,
          row.model,
          row.templateVersion,
          row.promptHash,
          row.priority,
          row.deadlineAt,
          row.contextManifest === null ? null : JSON.stringify(row.contextManifest),
          row.createdAt,
          JSON.stringify(message),
          firstRelayAt,
          joinSince,
        ]);
      const found = rows[0];
      if (!found) throw new Error('inference_queue returned no row');
      return found.created
        ? { created: true }
        : { created: false, requestId: found.found_request_id, deadlineAt: new Date(found.found_deadline_at) };
    }, untilMs);
  }

  /**
   * A hook call's dispatch in one statement (its own transaction, one round trip): the call's row, then a fresh good
   * result or a running request for the same prompt if one serves it, else `queue()`'s lock, join and insert (see
   * migration 1764510000000). Retried as a whole on a cut connection until `untilMs`: a retry after a lost commit
   * acknowledgement finds the call's row and its own request, and answers `created` again.
   */
  start(s: HookStart, untilMs: number): Promise<Dispatched> {
    const { call, request: row } = s;
    const params = [
      call !== null,
      row.hookInvocationId,
      call?.hookInstance ?? null,
      call?.hook ?? null,
      call?.serviceId ?? null,
      call?.requestId ?? null,
      call?.clientId ?? null,
      call?.patientRef ?? null,
      s.now,
      row.model,
      row.templateVersion,
      row.promptHash,
      s.reuseSince,
      s.reuseTake,
      row.requestId,
      row.priority,
      row.deadlineAt,
      row.contextManifest === null ? null : JSON.stringify(row.contextManifest),
      row.createdAt,
      JSON.stringify(s.message),
      s.firstRelayAt,
      s.joinSince,
    ];
    return retryTransient(async (): Promise<Dispatched> => {
      const rows = await hotQuery<{
        kind: string;
        request_id: string;
        deadline_at: Date;
        result: Record<string, unknown> | null;
      }>(this.dataSource, START_SQL, params);
      const found = rows[0];
      if (!found) throw new Error('hook_start returned no row');
      switch (found.kind) {
        case 'created':
          return { kind: 'created' };
        case 'result':
          if (found.result === null) throw new Error('hook_start returned a result kind without its result');
          return { kind: 'result', requestId: found.request_id, result: resultOf(found.result) };
        case 'pending':
        case 'joined':
          return { kind: found.kind, requestId: found.request_id, deadlineAt: new Date(found.deadline_at) };
        default:
          throw new Error(`hook_start returned an unknown kind`);
      }
    }, untilMs);
  }

  /** A broker took the message, or the request was recorded expired. */
  async remove(requestId: string): Promise<void> {
    await this.removeAll([requestId]);
  }

  /** Several delivered messages in one round trip. */
  async removeAll(requestIds: ReadonlyArray<string>): Promise<void> {
    if (requestIds.length === 0) return;
    await hotQuery(this.dataSource, OUTBOX_DELETE_SQL, [[...requestIds]]);
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
