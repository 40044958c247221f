import { setTimeout as delay } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { Consumer, EachBatchPayload, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import {
  fromWireHeaders,
  INFERENCE_REQUEST_SCHEMA,
  parseInferenceRequest,
  Topics,
  type DeadLetterV1,
} from '@app/contracts';
import { backoffMs, type BackoffPolicy } from '@app/timing';
import type { InboundHandler, InferenceRequestSource } from './inference-transport';
import { PartitionOffsets } from './partition-offsets';

export interface KafkaRequestSourceOptions {
  /** Messages handed to the handler and not finished; at this bound every partition is paused. */
  readonly maxPending: number;
  /** Partitions resume when pending falls to this (default: half of maxPending). */
  readonly resumeAt?: number;
  /** On stop, how long pending handlers may finish (and be committed) before the consumer leaves. */
  readonly shutdownGraceMs: number;
  /** Called once per dead-lettered message (metrics); the reason names fields, never values. */
  readonly onDeadLetter?: (reason: string) => void;
  /** Called per fetched batch with the partition's lag (high watermark minus the batch's first offset; metrics). */
  readonly onLag?: (partition: number, messages: number) => void;
}

/** A failed handler is retried in place with jitter, so a database blip does not make every request retry at once. */
const HANDLER_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 5_000, jitter: 'full' };

function headerRecord(headers: IHeaders | undefined): Record<string, string | Buffer | undefined> {
  const out: Record<string, string | Buffer | undefined> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k] = Array.isArray(v) ? v[0] : v;
  return out;
}

const sleep = (ms: number): Promise<void> => delay(ms, undefined, { ref: false });

/**
 * Consumes inference requests with consumption decoupled from inference. `eachBatch` hands each message
 * to the handler without waiting for it (with `eachMessage` a slow 70B call would hold its whole partition
 * and concurrency would be capped by the partition count), so kafkajs keeps fetching and heartbeating.
 * Up to `maxPending` messages are in progress; at that bound the topic is paused (backpressure, not an
 * unbounded queue) and resumed once work drains. Offsets are committed by hand, per partition, only up to
 * the lowest message whose handler has not finished, i.e. whose result is not durably stored yet.
 * Malformed messages go to the dead-letter topic with a reason, then count as done.
 */
export class KafkaRequestSource implements InferenceRequestSource {
  readonly messagingSystem = 'kafka';
  private readonly logger = new Logger(KafkaRequestSource.name);
  private readonly partitions = new Map<number, PartitionOffsets>();
  private pending = 0;
  private paused = false;
  private running = false;
  private stopping: Promise<void> | undefined;
  private commitScheduled = false;
  private commitChain: Promise<void> = Promise.resolve();
  private readonly drainWaiters: Array<() => void> = [];

  constructor(
    private readonly consumer: Consumer,
    private readonly producer: Producer,
    private readonly opts: KafkaRequestSourceOptions,
  ) {}

  /** Messages in progress (for tests and metrics). */
  get inProgress(): number {
    return this.pending;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  async start(handler: InboundHandler): Promise<void> {
    this.running = true;
    await this.consumer.subscribe({ topics: [Topics.inferenceRequests], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Batches are only dispatched here, never awaited, so one partition at a time is plenty.
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.dispatch(payload, handler),
    });
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    this.pauseAll();
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<void>((r) => (this.pending === 0 ? r() : this.drainWaiters.push(r)));
    await Promise.race([drained, new Promise<void>((r) => (timer = setTimeout(r, this.opts.shutdownGraceMs)))]);
    clearTimeout(timer);
    await this.commit();
    await this.consumer.disconnect();
  }

  private async dispatch(payload: EachBatchPayload, handler: InboundHandler): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    this.opts.onLag?.(batch.partition, Number(batch.offsetLagLow()));
    let offsets = this.partitions.get(batch.partition);
    if (!offsets) {
      offsets = new PartitionOffsets();
      this.partitions.set(batch.partition, offsets);
    }
    for (const message of batch.messages) {
      if (!this.running || !isRunning() || isStale()) break;
      if (this.pending >= this.opts.maxPending) {
        // Unresolved messages are fetched again after resume.
        this.pauseAll();
        break;
      }
      resolveOffset(message.offset);
      if (!offsets.begin(message.offset)) continue;
      this.pending += 1;
      void this.process(batch.topic, batch.partition, message, handler)
        // Only a finished message moves the commit position; one abandoned at shutdown stays behind it.
        .then(
          () => offsets.complete(message.offset),
          () => undefined,
        )
        .finally(() => {
          this.pending -= 1;
          this.scheduleCommit();
          this.maybeResume();
          if (this.pending === 0) for (const w of this.drainWaiters.splice(0)) w();
        });
    }
    await heartbeat();
  }

  /** Runs the handler until it succeeds (a failure is a database or backend outage, not a bad message). */
  private async process(
    topic: string,
    partition: number,
    message: KafkaMessage,
    handler: InboundHandler,
  ): Promise<void> {
    const headers = fromWireHeaders(headerRecord(message.headers));
    const parsed = parseInferenceRequest(message.value);
    if (!headers.ok || !parsed.ok || headers.headers.schema !== INFERENCE_REQUEST_SCHEMA) {
      const reason = !headers.ok
        ? headers.reason
        : !parsed.ok
          ? parsed.reason
          : `unsupported schema ${headers.headers.schema}`;
      await this.untilDone(() => this.deadLetter(topic, partition, message, reason));
      return;
    }
    const inbound = { request: parsed.value, headers: headers.headers };
    await this.untilDone(() => handler(inbound));
    this.logger.debug(`handled ${topic}[${partition}]@${message.offset}`);
  }

  private async untilDone(work: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await work();
        return;
      } catch (e) {
        // Stopping: leave it uncommitted; the next owner of the partition gets it again.
        if (!this.running) throw e;
        const wait = backoffMs(attempt, HANDLER_BACKOFF);
        this.logger.warn(`handler failed (attempt ${attempt}): ${e instanceof Error ? e.message : 'error'}`);
        await sleep(wait);
      }
    }
  }

  private pauseAll(): void {
    if (this.paused) return;
    this.paused = true;
    this.consumer.pause([{ topic: Topics.inferenceRequests }]);
    this.logger.debug(`paused: ${this.pending} requests in progress`);
  }

  private maybeResume(): void {
    if (!this.paused || !this.running) return;
    const resumeAt = this.opts.resumeAt ?? Math.floor(this.opts.maxPending / 2);
    if (this.pending > resumeAt) return;
    this.paused = false;
    this.consumer.resume([{ topic: Topics.inferenceRequests }]);
    this.logger.debug(`resumed: ${this.pending} requests in progress`);
  }

  /** Commits are coalesced: many completions in one tick make one OffsetCommit. */
  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      void this.commit();
    });
  }

  private commit(): Promise<void> {
    this.commitChain = this.commitChain.then(async () => {
      const due: Array<{ partition: number; offset: string }> = [];
      for (const [partition, offsets] of this.partitions) {
        const offset = offsets.committable();
        if (offset !== undefined) due.push({ partition, offset });
      }
      if (due.length === 0) return;
      try {
        await this.consumer.commitOffsets(due.map((d) => ({ topic: Topics.inferenceRequests, ...d })));
        for (const d of due) this.partitions.get(d.partition)?.committedAt(d.offset);
      } catch (e) {
        // Typically a rebalance: the partition's next owner re-reads from the last commit, and the
        // proxy's idempotence (one result per request id) makes the replay harmless.
        this.logger.warn(`offset commit failed: ${e instanceof Error ? e.message : 'error'}`);
      }
    });
    return this.commitChain;
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string): Promise<void> {
    const record: DeadLetterV1 = {
      schema: 'dead-letter.v1',
      reason,
      sourceTopic: topic,
      partition,
      offset: message.offset,
      receivedAt: new Date().toISOString(),
      valueBase64: message.value ? message.value.toString('base64') : null,
    };
    await this.producer.send({
      topic: Topics.inferenceRequestsDeadLetter,
      acks: -1,
      messages: [{ key: message.key, value: JSON.stringify(record) }],
    });
    this.opts.onDeadLetter?.(reason);
    this.logger.warn(`dead-lettered ${topic}[${partition}]@${message.offset}: ${reason}`);
  }
}
