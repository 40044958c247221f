import { Injectable } from '@nestjs/common';
import { DataSource, In, MoreThan } from 'typeorm';
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
function statusUpdateSql(rows: number): string {
  const tuples = Array.from({ length: rows }, (_, i) => `($${2 * i + 1}::uuid, $${2 * i + 2}::text)`);
  return `UPDATE inference_requests r SET status = v.status FROM (VALUES ${tuples.join(', ')}) AS v(id, status)
           WHERE r.request_id = v.id`;
}

/**
 * `inference_requests` and `inference_results`: requests are written by cds-hooks through the outbox
 * (InferenceOutboxRepository), results by the proxy (and by the outbox relay for a request that expired unpublished).
 */
@Injectable()
export class InferenceRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The newest live or completed requests for the same prompt since `since`. A read is safe to run again, so a
   * cut connection is retried until `untilMs` like a write: a hook call must not fail on a reconnect.
   */
  recentForPrompt(
    model: string,
    promptHash: string,
    templateVersion: string,
    since: Date,
    take: number,
    untilMs: number,
  ): Promise<InferenceRequestEntity[]> {
    return retryTransient(
      () =>
        this.dataSource.getRepository(InferenceRequestEntity).find({
          where: {
            model,
            promptHash,
            templateVersion,
            status: In(['queued', 'running', 'completed']),
            createdAt: MoreThan(since),
          },
          order: { createdAt: 'DESC' },
          take,
        }),
      untilMs,
    );
  }

  resultOf(requestId: string, untilMs: number): Promise<InferenceResultEntity | null> {
    return retryTransient(() => this.dataSource.getRepository(InferenceResultEntity).findOneBy({ requestId }), untilMs);
  }

  resultsOf(requestIds: ReadonlyArray<string>): Promise<InferenceResultEntity[]> {
    return this.dataSource.getRepository(InferenceResultEntity).findBy({ requestId: In([...requestIds]) });
  }

  async progress(requestId: string): Promise<RequestProgress> {
    const rows: Array<{ stored: boolean }> = await this.dataSource.query(REQUEST_PROGRESS_SQL, [requestId]);
    const row = rows[0];
    if (!row) return 'unknown';
    return row.stored ? 'stored' : 'open';
  }

  /**
   * A batch of results and their request statuses in one transaction: one multi-row INSERT and one UPDATE,
   * whatever the batch size. A row already stored (a redelivery) is left as it was. The caller retries.
   */
  async storeResults(batch: ReadonlyArray<StoredResult>): Promise<void> {
    if (batch.length === 0) return;
    const statusParams = batch.flatMap((r) => [r.requestId, r.status]);
    await this.dataSource.transaction(async (tx) => {
      await tx
        .createQueryBuilder()
        .insert()
        .into(InferenceResultEntity)
        .values(batch.map(({ status: _status, ...row }) => row))
        .orIgnore()
        .updateEntity(false)
        .execute();
      await tx.query(statusUpdateSql(batch.length), statusParams);
    });
  }
}
