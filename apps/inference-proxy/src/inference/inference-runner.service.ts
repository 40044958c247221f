import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { InferenceRepository } from '@app/database';
import type { InferenceRequestV1, MessageHeaders } from '@app/contracts';
import { RESULT_SIGNAL, type InboundInference, type ResultSignal } from '@app/messaging';
import { inSpan } from '@app/observability';
import { BackendError } from '../backends/backend-error';
import { ProxyMetrics } from '../metrics/proxy-metrics.service';
import { AnswerSource } from './answer-source.service';
import type { InferenceRecord } from './inference-record';
import { PrioritySlots } from './priority-slots.service';
import { ResultBatchWriter } from './result-batch-writer.service';

type Outcome = Pick<
  InferenceRecord,
  'outcome' | 'status' | 'backend' | 'servedFrom' | 'attempts' | 'outputText' | 'errorCode' | 'tokensIn' | 'tokensOut'
>;

function expired(errorCode: string): Outcome {
  return {
    outcome: 'expired',
    status: 'expired',
    backend: null,
    servedFrom: null,
    attempts: 0,
    outputText: null,
    errorCode,
    tokensIn: null,
    tokensOut: null,
  };
}

/**
 * Runs each inference request once. A redelivered request whose result is stored is only re-announced; one
 * still in flight joins it. Requests wait for a slot by priority, and one whose deadline passes first never
 * reaches a GPU. The handler resolves once the result is durably stored (and announced), so the transport commits then.
 */
@Injectable()
export class InferenceRunner {
  private readonly logger = new Logger(InferenceRunner.name);
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly inferences: InferenceRepository,
    private readonly answers: AnswerSource,
    private readonly slots: PrioritySlots,
    private readonly writer: ResultBatchWriter,
    private readonly audit: AuditWriter,
    private readonly metrics: ProxyMetrics,
    @Inject(RESULT_SIGNAL) private readonly signal: ResultSignal,
  ) {}

  handle({ request, headers }: InboundInference): Promise<void> {
    const running = this.inFlight.get(request.requestId);
    if (running) return running;
    const work = this.process(request, headers).finally(() => this.inFlight.delete(request.requestId));
    this.inFlight.set(request.requestId, work);
    return work;
  }

  private async process(request: InferenceRequestV1, headers: MessageHeaders): Promise<void> {
    const known = await this.inferences.progress(request.requestId);
    if (known === 'stored') {
      this.metrics.requestFinished('duplicate');
      await this.signal.announce(request.requestId);
      return;
    }
    if (known === 'unknown') {
      // Only cds-hooks creates requests, and it stores the row before publishing. Audited here, where the message
      // is settled: a handler that threw would have it redelivered, and there is no caller to answer.
      this.logger.warn(`request ${request.requestId} is not on record; refused`);
      this.metrics.requestFinished('refused');
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
    const received = Date.now();
    if (received >= headers.deadlineMs) return this.finish(request, received, expired('deadline_passed'));
    const slot = await inSpan(
      'meditron-inference-proxy',
      'inference.queue_wait',
      { attributes: { 'meditron.priority': request.priority } },
      async (span) => {
        const granted = await this.slots.acquire(request.priority, headers.deadlineMs);
        span.setAttribute('meditron.slot', typeof granted === 'string' ? granted : 'granted');
        return granted;
      },
    );
    if (slot === 'deadline_passed') return this.finish(request, received, expired('deadline_passed_in_queue'));
    // The queue was full (INFERENCE_QUEUE_CAPACITY): recorded expired, so it is never reused; a new call asks again.
    if (slot === 'queue_full') return this.finish(request, received, expired('queue_full'));
    let outcome: Outcome;
    try {
      outcome = await this.infer(request, headers.deadlineMs);
    } finally {
      slot.release();
    }
    await this.finish(request, received, outcome);
  }

  private async infer(request: InferenceRequestV1, deadlineMs: number): Promise<Outcome> {
    // Queued past its deadline while holding a slot is impossible (acquire times out), but a slot granted
    // with no time left must still not reach a GPU.
    if (Date.now() >= deadlineMs) return expired('deadline_passed_in_queue');
    try {
      const { completion, servedFrom } = await this.answers.answer(request, deadlineMs);
      if (servedFrom === 'backend') this.metrics.tokensUsed(completion.tokensIn, completion.tokensOut);
      return {
        outcome: 'ok',
        status: 'completed',
        backend: completion.backendId,
        servedFrom,
        attempts: servedFrom === 'backend' ? completion.attempts : 0,
        outputText: completion.text,
        errorCode: null,
        tokensIn: completion.tokensIn,
        tokensOut: completion.tokensOut,
      };
    } catch (e) {
      const err = e instanceof BackendError ? e : new BackendError('unknown', 'pool');
      return {
        outcome: 'error',
        status: 'failed',
        backend: err.backendId,
        servedFrom: null,
        attempts: err.attempts,
        outputText: null,
        errorCode: err.code,
        tokensIn: null,
        tokensOut: null,
      };
    }
  }

  private async finish(request: InferenceRequestV1, received: number, outcome: Outcome): Promise<void> {
    const latencyMs = Date.now() - received;
    const stored = await this.writer.write({
      requestId: request.requestId,
      hookInstance: request.hookInstance,
      model: request.model,
      templateVersion: request.templateVersion,
      promptHash: request.promptHash,
      latencyMs,
      completedAt: new Date(),
      ...outcome,
    });
    this.metrics.requestFinished(outcome.outcome, latencyMs / 1000);
    // Over Postgres NOTIFY the store statement announced it at commit (InferenceModule's result writer). Otherwise
    // the row as the store returned it goes with the id (none when a row was already stored: waiters then read it).
    if (!this.signal.notifyChannel) await this.signal.announce(request.requestId, stored);
  }
}
