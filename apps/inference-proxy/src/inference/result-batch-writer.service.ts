import { setTimeout as delay } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { auditEventId, queuedAuditRow, type AuditRecord, type QueuedAuditRow } from '@app/audit';
import type { InferenceResultEntity } from '@app/database';
import { backoffMs } from '@app/timing';
import type { InferenceRecord } from './inference-record';

export interface ResultWriterOptions {
  /** Rows held in memory (queued + being written); `write` waits beyond this, it never drops. */
  readonly capacity: number;
  readonly batchSize: number;
  /** Longest a row waits for companions before its batch is written. */
  readonly flushMs: number;
  /** Batches written at once: the writer's share of the connection pool. */
  readonly concurrency: number;
}

export interface ResultWriterDeps {
  /**
   * Stores the rows and their `inference.completed` events together (one statement: both or neither), and resolves
   * with the rows it stored, as stored; a request whose row was already stored is not among them.
   */
  store(
    batch: ReadonlyArray<InferenceRecord>,
    events: ReadonlyArray<QueuedAuditRow>,
  ): Promise<ReadonlyArray<InferenceResultEntity>>;
  observeBatch?(rows: number, ok: boolean): void;
}

interface Pending {
  readonly record: InferenceRecord;
  /** The row's `inference.completed` event, timed when the row was handed in. */
  readonly event: QueuedAuditRow;
  resolve(stored: InferenceResultEntity | undefined): void;
  reject(e: Error): void;
}

const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 2_000;

export function auditEventFor(r: InferenceRecord): AuditRecord {
  return {
    // One per request: a redelivery after a crash re-runs the request but records the same event.
    eventId: auditEventId('inference.completed', r.requestId),
    action: 'inference.completed',
    outcome: r.outcome === 'ok' ? 'success' : 'failure',
    service: 'inference-proxy',
    requestId: r.requestId,
    hookInstance: r.hookInstance,
    detail: {
      model: r.model,
      promptHash: r.promptHash,
      templateVersion: r.templateVersion,
      backend: r.backend,
      servedFrom: r.servedFrom,
      attempts: r.attempts,
      resultOutcome: r.outcome,
      errorCode: r.errorCode,
      latencyMs: r.latencyMs,
      tokensIn: r.tokensIn,
      tokensOut: r.tokensOut,
    },
  };
}

/**
 * Batched, asynchronous result writes off the request path (LiteLLM's users' top complaint is per-request
 * logging that slows requests). A row is kept until its batch and its audit event are stored, retrying with
 * backoff; `write` resolves only then, so the caller commits its Kafka offset only for durable rows. A batch's rows
 * and their `inference.completed` events commit in one statement: a stored result always has its event (cds-hooks
 * may read the row by polling before any announcement), in one round trip instead of an audit commit then a store.
 */
export class ResultBatchWriter {
  private readonly logger = new Logger(ResultBatchWriter.name);
  private readonly queue: Pending[] = [];
  private held = 0;
  private writing = 0;
  private linger: NodeJS.Timeout | undefined;
  private readonly spaceWaiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly opts: ResultWriterOptions,
    private readonly deps: ResultWriterDeps,
  ) {}

  /** Rows not yet durable. */
  get backlog(): number {
    return this.held;
  }

  /**
   * Resolves once the row is durable: with the row as stored, or undefined when a row for its request was already
   * stored (a redelivery, or a retry after a lost commit acknowledgement: the first write wins).
   */
  async write(record: InferenceRecord): Promise<InferenceResultEntity | undefined> {
    if (this.closed) throw new Error('result writer closed');
    while (this.held >= this.opts.capacity) await new Promise<void>((r) => this.spaceWaiters.push(r));
    this.held += 1;
    return new Promise<InferenceResultEntity | undefined>((resolve, reject) => {
      this.queue.push({ record, event: queuedAuditRow(auditEventFor(record)), resolve, reject });
      this.schedule();
    });
  }

  /** Waits until every row handed in so far is stored. */
  async drain(): Promise<void> {
    clearTimeout(this.linger);
    this.linger = undefined;
    this.pump();
    while (this.held > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /**
   * Drains for at most `graceMs`, then gives up on what is left: those writers get an error, so their
   * Kafka offsets are not committed and the messages are redelivered to another replica.
   */
  async close(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drain(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('result writer closed'));
  }

  private schedule(): void {
    // Group commit: with a writer free, write now (no added latency at low load); rows arriving while writes are
    // in flight form the next batch, written as soon as a writer frees up.
    if (this.writing < this.opts.concurrency || this.queue.length >= this.opts.batchSize || this.opts.flushMs === 0) {
      clearTimeout(this.linger);
      this.linger = undefined;
      this.pump();
      return;
    }
    this.linger ??= setTimeout(() => {
      this.linger = undefined;
      this.pump();
    }, this.opts.flushMs);
  }

  private pump(): void {
    while (this.writing < this.opts.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.batchSize);
      this.writing += 1;
      void this.persist(batch).then((stored) => {
        this.writing -= 1;
        this.held -= batch.length;
        for (const p of batch) {
          if (stored) p.resolve(stored.get(p.record.requestId));
          else p.reject(new Error('result writer closed'));
        }
        for (const w of this.spaceWaiters.splice(0, batch.length)) w();
        if (this.held === 0) for (const w of this.idleWaiters.splice(0)) w();
        this.pump();
      });
    }
  }

  /**
   * Retries until stored: a row is never dropped (the database coming back is the only way forward). Resolves with
   * the rows the successful attempt stored, by request id, or undefined once closed.
   */
  private async persist(batch: Pending[]): Promise<Map<string, InferenceResultEntity> | undefined> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        // A retry after a lost commit acknowledgement stores nothing twice: results are inserted or ignored, and
        // the chain trigger skips an event id already stored (ids are one per request).
        const stored = await this.deps.store(
          batch.map((p) => p.record),
          batch.map((p) => p.event),
        );
        this.deps.observeBatch?.(batch.length, true);
        return new Map(stored.map((r) => [r.requestId, r]));
      } catch (e) {
        this.deps.observeBatch?.(batch.length, false);
        const wait = backoffMs(attempt, { baseMs: RETRY_BASE_MS, maxMs: RETRY_MAX_MS, jitter: 'full' });
        this.logger.warn(
          `storing ${batch.length} results failed (attempt ${attempt}): ${e instanceof Error ? e.message : 'error'}; retry in ${wait} ms`,
        );
        await delay(wait);
      }
    }
    return undefined;
  }
}
