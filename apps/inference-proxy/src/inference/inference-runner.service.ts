import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditWriter } from '@app/audit';
import type { InferenceOutcome } from '@app/contracts';
import { InferenceRequestEntity, InferenceResultEntity, type InferenceRequestStatus } from '@app/database';
import {
  INFERENCE_REQUEST_SOURCE,
  RESULT_SIGNAL,
  type InboundInference,
  type InferenceRequestSource,
  type ResultSignal,
} from '@app/messaging';
import { BackendPool } from '../backends/backend-pool';
import { BackendError } from '../backends/backend-error';

interface ResultRow {
  outcome: InferenceOutcome;
  backend: string | null;
  outputText: string | null;
  errorCode: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
}

/**
 * Runs each inference request once: a redelivered request whose result is stored is only re-announced.
 * The result is stored before the handler returns, so the transport commits the offset only then.
 */
@Injectable()
export class InferenceRunner implements OnApplicationBootstrap {
  private readonly logger = new Logger(InferenceRunner.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly pool: BackendPool,
    private readonly audit: AuditWriter,
    @Inject(INFERENCE_REQUEST_SOURCE) private readonly source: InferenceRequestSource,
    @Inject(RESULT_SIGNAL) private readonly signal: ResultSignal,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.source.start((msg) => this.handle(msg));
  }

  async handle({ request, headers }: InboundInference): Promise<void> {
    const results = this.dataSource.getRepository(InferenceResultEntity);
    const requests = this.dataSource.getRepository(InferenceRequestEntity);
    if (await results.existsBy({ requestId: request.requestId })) {
      await this.signal.announce(request.requestId);
      return;
    }
    if (!(await requests.existsBy({ requestId: request.requestId }))) {
      // Only cds-hooks creates requests, and it stores the row before publishing.
      this.logger.warn(`request ${request.requestId} is not on record; refused`);
      await this.audit.record({
        action: 'inference.refused',
        outcome: 'refused',
        service: 'inference-proxy',
        requestId: request.requestId,
        hookInstance: request.hookInstance,
        detail: { reason: 'unknown_request' },
      });
      return;
    }
    const started = Date.now();
    if (started >= headers.deadlineMs) {
      await this.finish(
        request.requestId,
        request.hookInstance,
        started,
        'expired',
        {
          outcome: 'expired',
          backend: null,
          outputText: null,
          errorCode: 'deadline_passed',
          tokensIn: null,
          tokensOut: null,
        },
        request.model,
        request.promptHash,
        request.templateVersion,
      );
      return;
    }
    await requests.update({ requestId: request.requestId }, { status: 'running' });
    let row: ResultRow;
    let status: InferenceRequestStatus;
    try {
      const out = await this.pool.complete(request, headers.deadlineMs);
      row = {
        outcome: 'ok',
        backend: out.backendId,
        outputText: out.text,
        errorCode: null,
        tokensIn: out.tokensIn,
        tokensOut: out.tokensOut,
      };
      status = 'completed';
    } catch (e) {
      const err = e instanceof BackendError ? e : new BackendError('unknown', 'pool');
      row = {
        outcome: 'error',
        backend: err.backendId,
        outputText: null,
        errorCode: err.code,
        tokensIn: null,
        tokensOut: null,
      };
      status = 'failed';
    }
    await this.finish(
      request.requestId,
      request.hookInstance,
      started,
      status,
      row,
      request.model,
      request.promptHash,
      request.templateVersion,
    );
  }

  private async finish(
    requestId: string,
    hookInstance: string,
    started: number,
    status: InferenceRequestStatus,
    row: ResultRow,
    model: string,
    promptHash: string,
    templateVersion: string,
  ): Promise<void> {
    const latencyMs = Date.now() - started;
    await this.dataSource.transaction(async (tx) => {
      await tx
        .createQueryBuilder()
        .insert()
        .into(InferenceResultEntity)
        .values({ requestId, ...row, latencyMs, completedAt: new Date() })
        .orIgnore()
        .execute();
      await tx.getRepository(InferenceRequestEntity).update({ requestId }, { status });
    });
    await this.audit.record({
      action: 'inference.completed',
      outcome: row.outcome === 'ok' ? 'success' : 'failure',
      service: 'inference-proxy',
      requestId,
      hookInstance,
      detail: {
        model,
        promptHash,
        templateVersion,
        backend: row.backend,
        resultOutcome: row.outcome,
        errorCode: row.errorCode,
        latencyMs,
        tokensIn: row.tokensIn,
        tokensOut: row.tokensOut,
      },
    });
    await this.signal.announce(requestId);
  }
}
