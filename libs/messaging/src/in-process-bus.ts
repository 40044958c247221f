import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { inferenceRequestV1, type InferenceRequestV1, type MessageHeaders } from '@app/contracts';
import type { InferenceResultEntity } from '@app/database';
import { backoffMs, type BackoffPolicy } from '@app/timing';
import type {
  InboundHandler,
  InferenceDispatcher,
  InferenceRequestSource,
  ResultListener,
  ResultSignal,
} from './inference-transport';

/** A failed handler is delivered again up to this many times (in memory: for development, not production). */
const MAX_REDELIVERIES = 3;
const REDELIVERY_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 1_600, jitter: 'none' };

/**
 * Single-process transport for the local stack (KAFKA_BROKERS unset): the same contract, validated the
 * same way, without a broker. Delivery is in memory, so it is for development, not for production.
 */
export class InProcessBus implements InferenceDispatcher, InferenceRequestSource, ResultSignal {
  private readonly logger = new Logger(InProcessBus.name);
  private readonly results = new EventEmitter().setMaxListeners(0);
  private handler: InboundHandler | undefined;
  private readonly backlog: Array<{ request: InferenceRequestV1; headers: MessageHeaders }> = [];

  async dispatch(request: InferenceRequestV1, headers: MessageHeaders): Promise<void> {
    const parsed = inferenceRequestV1.parse(request);
    if (!this.handler) {
      this.backlog.push({ request: parsed, headers });
      return;
    }
    setImmediate(() => void this.deliver({ request: parsed, headers }, 0));
  }

  async start(handler: InboundHandler): Promise<void> {
    this.handler = handler;
    for (const msg of this.backlog.splice(0)) setImmediate(() => void this.deliver(msg, 0));
  }

  async stop(): Promise<void> {
    this.handler = undefined;
  }

  /** Hands listeners the stored row itself (same process: nothing to serialise), or the id alone. */
  async announce(requestId: string, stored?: InferenceResultEntity): Promise<void> {
    this.results.emit('result', requestId, stored);
  }

  subscribe(listener: ResultListener): () => void {
    this.results.on('result', listener);
    return () => this.results.off('result', listener);
  }

  private async deliver(msg: { request: InferenceRequestV1; headers: MessageHeaders }, attempt: number): Promise<void> {
    const handler = this.handler;
    if (!handler) {
      this.backlog.push(msg);
      return;
    }
    try {
      await handler(msg);
    } catch (e) {
      const delay = attempt < MAX_REDELIVERIES ? backoffMs(attempt + 1, REDELIVERY_BACKOFF) : undefined;
      this.logger.warn(
        `handler failed for request ${msg.request.requestId} (attempt ${attempt + 1}): ${e instanceof Error ? e.message : 'error'}`,
      );
      if (delay !== undefined) setTimeout(() => void this.deliver(msg, attempt + 1), delay).unref();
    }
  }
}
