import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InferenceRepository, type InferenceResultEntity } from '@app/database';
import { RESULT_SIGNAL, type ResultSignal } from '@app/messaging';
import { PeriodicTask } from '@app/timing';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';

/** Signals remembered for requests nobody waits for yet (a result can beat its waiter); the poll covers the rest. */
const RECENT_SIGNALS = 4096;

interface Waiter {
  resolve(result: InferenceResultEntity | undefined): void;
  timer: NodeJS.Timeout;
}

/**
 * Waits for inference results by request id. Results live in Postgres: a signal that carries the stored row (a fresh
 * result: see ResultSignal) settles its waiters with it, no read; a signal with the id alone wakes the waiter to read
 * the row there, and a poll catches any signal that was lost. Several calls may wait for the same request (a repeat
 * of a call whose inference is still running), each with its own deadline. Id-only signals that arrive together
 * are read together (one query for all of them).
 */
@Injectable()
export class ResultWaiter implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ResultWaiter.name);
  private readonly waiters = new Map<string, Set<Waiter>>();
  private unsubscribe: (() => void) | undefined;
  private poller: PeriodicTask | undefined;
  /** Ids signalled while no call waited for them (insertion order: the oldest go first). */
  private readonly signalled = new Set<string>();
  /** Signalled ids to read on the next turn of the event loop. */
  private readonly due = new Set<string>();

  constructor(
    private readonly inferences: InferenceRepository,
    @Inject(RESULT_SIGNAL) private readonly signal: ResultSignal,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.signal.subscribe((id, stored) => this.signalledFor(id, stored));
    this.poller = new PeriodicTask(
      this.config.RESULT_POLL_MS,
      () => (this.waiters.size > 0 ? this.check([...this.waiters.keys()]) : undefined),
      { immediate: false },
    );
    this.poller.start();
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    void this.poller?.stop();
    for (const set of this.waiters.values()) {
      for (const w of set) {
        clearTimeout(w.timer);
        w.resolve(undefined);
      }
    }
    this.waiters.clear();
    this.signalled.clear();
    this.due.clear();
  }

  /**
   * Resolves with the stored result, or undefined when the deadline passes first. `published`: the caller itself
   * just published the request, so its result cannot be stored unless a signal for it already came (no read now).
   */
  wait(
    requestId: string,
    deadlineMs: number,
    opts: { published?: boolean } = {},
  ): Promise<InferenceResultEntity | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => this.expire(requestId, waiter), Math.max(0, deadlineMs - Date.now())),
      };
      const set = this.waiters.get(requestId) ?? new Set<Waiter>();
      set.add(waiter);
      this.waiters.set(requestId, set);
      if (!opts.published || this.signalled.delete(requestId)) void this.check([requestId]);
    });
  }

  private signalledFor(id: string, stored: InferenceResultEntity | undefined): void {
    if (!this.waiters.has(id)) {
      // Only the id is remembered (bounded): a later waiter reads the row.
      this.signalled.add(id);
      if (this.signalled.size > RECENT_SIGNALS) this.signalled.delete(this.signalled.values().next().value!);
      return;
    }
    // The row as the proxy's store returned it: settled now, without reading it back.
    if (stored) return this.settle(id, stored);
    if (this.due.size === 0) setImmediate(() => this.checkDue());
    this.due.add(id);
  }

  private checkDue(): void {
    const ids = [...this.due].filter((id) => this.waiters.has(id));
    this.due.clear();
    if (ids.length > 0) void this.check(ids);
  }

  private async check(ids: string[]): Promise<void> {
    try {
      const rows = await this.inferences.resultsOf(ids);
      for (const row of rows) this.settle(row.requestId, row);
    } catch (e) {
      this.logger.warn(`result lookup failed: ${e instanceof Error ? e.name : 'error'}`);
    }
  }

  /** The result is here: every call waiting for it gets it. */
  private settle(id: string, result: InferenceResultEntity): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const w of set) {
      clearTimeout(w.timer);
      w.resolve(result);
    }
  }

  /** One call's deadline passed: only that call stops waiting. */
  private expire(id: string, waiter: Waiter): void {
    const set = this.waiters.get(id);
    if (!set?.delete(waiter)) return;
    if (set.size === 0) this.waiters.delete(id);
    waiter.resolve(undefined);
  }
}
