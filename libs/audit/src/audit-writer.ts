import { setTimeout as delay } from 'node:timers/promises';
import { Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { hotQuery } from '@app/database';
import { backoffMs } from '@app/timing';
import {
  batchInsert,
  isAlreadyStored,
  isPermanentRowError,
  queuedAuditRow,
  type QueuedAuditRow,
} from './audit-batch-insert';
import { AuditException, AuditExceptionCode } from './audit-exception';
import type { AuditRecord } from './audit-record';
import { auditSpoolDir, openAuditSpool } from './audit-spool';
import { auditWriterOptionsFromEnv, type AuditWriterOptions } from './audit-writer.options';
import type { DurableSpool, SpoolLine, SpoolTicket } from './durable-spool';

interface Pending {
  readonly row: QueuedAuditRow;
  /** Where the event is spooled; acknowledged (and so dropped from disk) once committed. */
  ticket?: SpoolTicket;
  spooled: 'pending' | 'done' | 'failed';
  committed?: boolean;
  /** The wait passed before the spool write finished: the caller goes on when it does. */
  releaseWhenSpooled?: boolean;
  /** Admitted with `linger` and still waiting for company: queued and spooled, but it starts no write. */
  lingering: boolean;
  lingerTimer?: NodeJS.Timeout;
  /** Why the database refused the row: the events admitted `after` its group are refused with it. */
  refused?: Error;
  /** Events admitted `after` this one's group, while this one is not yet written. */
  followers?: Pending[];
  resolve(): void;
  reject(e: Error): void;
}

/** A group of events admit() accepted. */
export interface AuditAdmission {
  /**
   * Resolves once every event of the group (and of the group it was admitted `after`) has committed, or, past
   * `maxWaitMs`, is on disk; rejects if any of them could not be.
   */
  readonly durable: Promise<void>;
}

export interface AdmitOptions {
  /**
   * Wait up to `lingerMs` for company: the events are queued and spooled at once (durable on disk as any other),
   * but start no write; they go with the next write another event starts, or alone when their linger ends (or at
   * flush() or close()). For an event that is usually followed soon by another: one INSERT instead of two.
   */
  readonly linger?: boolean;
  /**
   * A group admitted earlier that these events depend on: they commit in its INSERT or a later one (queue order),
   * `durable` covers it too, and if the database refuses one of its events these are refused with it, unwritten
   * (all or none across the two admissions; refused at once if that happened already).
   */
  readonly after?: AuditAdmission;
}

const notCommitted = (): AuditException =>
  new AuditException(AuditExceptionCode.WRITE_TIMEOUT, 'audit event not yet committed');

const ignore = (): void => undefined;

export interface AuditWriterStats {
  /** INSERT statements that committed. */
  batches: number;
  rows: number;
  largestBatch: number;
  /** INSERT statements that failed (each retried, or split when a row is bad). */
  failedAttempts: number;
  /** Events found in the spool at start-up (left by a crash) and queued again. */
  replayed: number;
}

/** Unref'd: a pending retry or close deadline never keeps the process alive. */
const sleep = (ms: number): Promise<void> => delay(ms, undefined, { ref: false });

/**
 * Group commit: record() queues the event for a multi-row INSERT and, alongside, appends it to a local spool
 * (fsync, shared by concurrent events); it resolves once the INSERT has committed, so an event is durable before
 * the call it describes is answered. An event admitted with `linger` waits (up to `lingerMs`) for a write another
 * event starts, so an event and its usual successor share one INSERT (and one turn at the chain lock). While the
 * database is away a caller is released after `maxWaitMs` once its event is on disk: replayed at the next start-up
 * if the process dies, and stored once (event ids are deduplicated). One batch is in flight at a time (the chain
 * trigger serialises writers anyway). A failed batch stays queued and is retried with backoff; queue and spool are
 * bounded and refuse with AUDIT_QUEUE_FULL.
 */
export class AuditWriter implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditWriter');
  private readonly opts: AuditWriterOptions;
  private readonly queue: Pending[] = [];
  /** Queued events still lingering (they start no write). */
  private lingering = 0;
  /** Each admitted group's events, for `after` and flush(). */
  private readonly groups = new WeakMap<AuditAdmission, Pending[]>();
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;
  private abandoned = false;
  private readonly spool: DurableSpool<QueuedAuditRow> | undefined;
  private ready: Promise<void> | undefined;
  /** Refusals spooled or queued (their own budget, refusedShare of maxQueue). */
  private refusedHeld = 0;
  /** Spool writes in progress, waited for by close(). */
  private readonly spooling = new Set<Promise<unknown>>();
  readonly stats: AuditWriterStats = { batches: 0, rows: 0, largestBatch: 0, failedAttempts: 0, replayed: 0 };

  constructor(
    private readonly dataSource: DataSource,
    opts: Partial<AuditWriterOptions> = {},
  ) {
    this.opts = { ...auditWriterOptionsFromEnv(process.env), ...opts };
    if (this.opts.spoolDir !== null) {
      this.spool = openAuditSpool(auditSpoolDir(this.opts.spoolDir, dataSource), this.opts.spoolMaxBytes);
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Events that may be queued (AUDIT_QUEUE_MAX); at it record() rejects. */
  get capacity(): number {
    return this.opts.maxQueue;
  }

  /** Replays what a crashed predecessor left in the spool (also done by the first record()). */
  async onModuleInit(): Promise<void> {
    await this.start();
  }

  start(): Promise<void> {
    this.ready ??= this.replay();
    return this.ready;
  }

  async record(event: AuditRecord): Promise<void> {
    const { durable } = await this.admit([event]);
    return durable;
  }

  /**
   * Queues `events` as a group, all or none, next to each other and in order (the writer commits in queue order, so
   * none of them commits before the ones ahead of it), and resolves as soon as they are accepted, without waiting for
   * the database: `durable` then resolves as `record()` does, once every one of them has committed (or, past
   * `maxWaitMs`, is on disk), and rejects if any of them could not be. Rejects at once with AUDIT_QUEUE_FULL (none
   * queued) when the group does not fit, so a caller can decide on other writes before any event of the group is
   * durable, knowing the group will be. `opts`: see AdmitOptions (`linger`, `after`).
   */
  async admit(events: ReadonlyArray<AuditRecord>, opts: AdmitOptions = {}): Promise<AuditAdmission> {
    if (this.closed) throw new AuditException(AuditExceptionCode.WRITER_CLOSED, 'audit writer is closed');
    await this.start();
    const leaders = opts.after ? (this.groups.get(opts.after) ?? []) : [];
    const refused = leaders.find((l) => l.refused)?.refused;
    if (refused) throw refused;
    if (this.queue.length + events.length > this.opts.maxQueue) {
      throw new AuditException(AuditExceptionCode.QUEUE_FULL, `audit queue full (${this.opts.maxQueue} events)`);
    }
    const refusals = events.filter((e) => e.outcome === 'refused').length;
    if (
      refusals > 0 &&
      this.refusedHeld + refusals > Math.max(1, Math.floor(this.opts.maxQueue * this.opts.refusedShare))
    ) {
      throw new AuditException(AuditExceptionCode.QUEUE_FULL, 'audit queue: refusals at their share');
    }
    const rows = events.map((e) => queuedAuditRow(e));
    // Each row is serialised once: the same line is checked for room and then written.
    const lines = this.spool ? rows.map((row) => this.spool!.lineOf(row)) : undefined;
    if (this.spool && lines && !this.spool.hasRoom(...lines)) {
      throw new AuditException(AuditExceptionCode.QUEUE_FULL, 'audit spool full');
    }
    this.refusedHeld += refusals;
    const linger = opts.linger === true && this.opts.lingerMs > 0;
    const queued = rows.map((row, i) => this.enqueue(row, lines?.[i], linger));
    const members = queued.map((q) => q.pending);
    for (const l of leaders) if (!l.committed) (l.followers ??= []).push(...members);
    this.schedule();
    const durable = Promise.all([...queued.map((q) => q.committed), ...(opts.after ? [opts.after.durable] : [])]).then(
      () => undefined,
    );
    // Reported when the caller awaits `durable`, not as unhandled meanwhile.
    durable.catch(ignore);
    const admission: AuditAdmission = { durable };
    this.groups.set(admission, members);
    return admission;
  }

  /** Ends the linger of `admission`'s events: they are written now, with whatever else is queued. */
  flush(admission: AuditAdmission): Promise<void> {
    for (const p of this.groups.get(admission) ?? []) this.endLinger(p);
    this.schedule();
    return admission.durable;
  }

  /** One admitted event: queued, spooled alongside; settles when committed (or released once on disk). */
  private enqueue(
    row: QueuedAuditRow,
    line: SpoolLine | undefined,
    linger: boolean,
  ): { pending: Pending; committed: Promise<void> } {
    let pending!: Pending;
    const committed = new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle =
        <A extends unknown[]>(fn: (...a: A) => void) =>
        (...a: A) => {
          clearTimeout(timer);
          fn(...a);
        };
      const p: Pending = {
        row,
        spooled: 'pending',
        lingering: linger,
        resolve: settle(resolve),
        reject: settle(reject),
      };
      pending = p;
      if (linger) {
        this.lingering += 1;
        p.lingerTimer = setTimeout(() => {
          this.endLinger(p);
          this.schedule();
        }, this.opts.lingerMs);
        p.lingerTimer.unref();
      }
      if (this.opts.maxWaitMs > 0) {
        // Past the wait the caller goes on once its event is on disk; an event only memory holds is reported.
        timer = setTimeout(() => {
          if (p.spooled === 'done') p.resolve();
          else if (p.spooled === 'failed') p.reject(notCommitted());
          else p.releaseWhenSpooled = true;
        }, this.opts.maxWaitMs);
        timer.unref();
      }
      this.queue.push(p);
      // Spooled alongside the INSERT, not before it: a healthy database never waits for the disk.
      this.spoolEvent(p, line);
    });
    return { pending, committed };
  }

  /** `p` stops waiting for company: the next write takes it along (the caller schedules one). */
  private endLinger(p: Pending): void {
    if (!p.lingering) return;
    p.lingering = false;
    clearTimeout(p.lingerTimer);
    this.lingering -= 1;
  }

  /** Queued events that want a write (not lingering). */
  private get due(): number {
    return this.queue.length - this.lingering;
  }

  private spoolEvent(p: Pending, line: SpoolLine | undefined): void {
    if (!this.spool || !line) {
      p.spooled = 'failed';
      return;
    }
    const appended = this.spool.appendLine(line).then(
      (ticket) => {
        p.spooled = 'done';
        if (p.committed) this.spool?.ack(ticket);
        else p.ticket = ticket;
        if (p.releaseWhenSpooled) p.resolve();
      },
      (e: unknown) => {
        p.spooled = 'failed';
        this.logger.error(`audit event not spooled: ${describe(e)}`);
        if (p.releaseWhenSpooled) p.reject(notCommitted());
      },
    );
    this.spooling.add(appended);
    void appended.finally(() => this.spooling.delete(appended));
  }

  private async replay(): Promise<void> {
    if (!this.spool) return;
    const left = await this.spool.open();
    if (left.length === 0) return;
    this.stats.replayed += left.length;
    this.logger.warn(`replaying ${left.length} audit events left in the spool by an earlier process`);
    for (const { entry, ticket } of left) {
      if (entry.outcome === 'refused') this.refusedHeld += 1;
      this.queue.push({ row: entry, ticket, spooled: 'done', lingering: false, resolve: ignore, reject: ignore });
    }
    this.schedule();
  }

  /** Writes everything queued, then refuses new events; what cannot be written in time is rejected. */
  async close(): Promise<void> {
    this.closed = true;
    // Events recorded before close() and waiting for the replay are queued first (reactions run in order).
    await this.start().catch(() => undefined);
    await Promise.allSettled([...this.spooling]);
    // Nothing waits for company at shutdown.
    for (const p of this.queue) this.endLinger(p);
    void this.kick();
    const deadline = sleep(this.opts.closeTimeoutMs).then(() => 'timeout' as const);
    while (this.queue.length > 0) {
      if ((await Promise.race([this.draining ?? this.kick(), deadline])) === 'timeout') break;
    }
    if (this.queue.length > 0) {
      this.abandoned = true;
      const left = this.queue.splice(0);
      this.logger.error(`audit writer closed with ${left.length} events unwritten`);
      const err = new AuditException(AuditExceptionCode.FLUSH_TIMEOUT, 'audit events not written before shutdown');
      for (const p of left) p.reject(err);
    }
    // What was not written stays in the spool for the next start-up.
    await this.spool?.close();
  }

  /** After the app's own modules stopped taking work and drained, so their last events are written too. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private schedule(): void {
    if (this.draining) return; // the running drain picks new events up when its batch is done
    if (this.due === 0) return; // only lingering events: their linger (or the next event) starts the write
    // With the default delay of 0 this is group commit: nothing in flight, so write now (no added latency at low
    // load); events arriving during the write form the next batch.
    if (this.queue.length >= this.opts.maxBatch || this.opts.maxDelayMs === 0) {
      void this.kick();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.kick(), this.opts.maxDelayMs);
      this.timer.unref();
    }
  }

  private kick(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      // An event queued after the drain saw an empty queue, but before this ran, found `draining` still set.
      if (this.due > 0 && !this.abandoned) this.schedule();
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    let failures = 0;
    // A batch is the queue's head, lingering events included: they go along with the write others started.
    while (this.due > 0 && !this.abandoned) {
      const batch = this.queue.slice(0, this.opts.maxBatch);
      try {
        await this.write(batch);
        failures = 0;
      } catch (e) {
        this.stats.failedAttempts++;
        failures++;
        const wait = backoffMs(failures, {
          baseMs: this.opts.retryBaseMs,
          maxMs: this.opts.retryMaxMs,
          jitter: 'none',
        });
        this.logger.warn(
          `audit batch of ${batch.length} failed (attempt ${failures}, retry in ${wait} ms): ${describe(e)}`,
        );
        await sleep(wait);
      }
    }
  }

  /** Commits a batch; a bad row (data/constraint error) is isolated and rejected alone, the rest written. */
  private async write(batch: Pending[]): Promise<void> {
    try {
      await this.insert(batch);
      this.settle(batch);
    } catch (e) {
      if (!isPermanentRowError(e)) throw e;
      // A duplicate event id is found row by row below and settled as stored.
      this.stats.failedAttempts++;
      for (const p of batch) {
        if (p.committed) continue; // refused with the group it was admitted after
        try {
          await this.insert([p]);
          this.settle([p]);
        } catch (rowError) {
          if (isAlreadyStored(rowError)) {
            this.settle([p]);
            continue;
          }
          if (!isPermanentRowError(rowError)) throw rowError;
          this.stats.failedAttempts++;
          this.logger.error(`audit event ${p.row.action} refused by the database: ${describe(rowError)}`);
          this.refuse(p, rowError instanceof Error ? rowError : new Error(describe(rowError)));
        }
      }
    }
  }

  /** A row the database refused: rejected and dropped (queue and spool), and so is every event admitted after it. */
  private refuse(p: Pending, e: Error): void {
    this.remove([p]);
    p.committed = true;
    p.refused = e;
    if (p.ticket) this.spool?.ack(p.ticket);
    p.reject(e);
    for (const f of p.followers ?? []) if (!f.committed) this.refuse(f, e);
  }

  private async insert(batch: Pending[]): Promise<void> {
    const { sql, params } = batchInsert(batch.map((p) => p.row));
    // A batch's text varies with its size: the sizes of a quiet system are prepared, a backlog's run unnamed.
    await hotQuery(this.dataSource, sql, params, { prepare: batch.length <= PREPARED_BATCH_ROWS });
    this.stats.batches++;
    this.stats.rows += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
  }

  private settle(batch: Pending[]): void {
    this.remove(batch);
    for (const p of batch) {
      p.committed = true;
      p.followers = undefined;
      if (p.ticket) this.spool?.ack(p.ticket);
      p.resolve();
    }
  }

  private remove(batch: Pending[]): void {
    for (const p of batch) {
      const i = this.queue.indexOf(p);
      if (i < 0) continue;
      this.queue.splice(i, 1);
      this.endLinger(p);
      if (p.row.outcome === 'refused') this.refusedHeld -= 1;
    }
  }
}

/** Error text for logs: the driver's message and SQLSTATE, never parameters (they may hold patient references). */
/** Audit batches up to this many rows run as prepared statements (libs/database hot-query.ts). */
const PREPARED_BATCH_ROWS = 4;

function describe(e: unknown): string {
  if (!(e instanceof Error)) return 'unknown error';
  const raw = 'code' in e ? (e as { code: unknown }).code : undefined;
  const code = typeof raw === 'string' ? ` (${raw})` : '';
  return `${e.message.slice(0, 200)}${code}`;
}
