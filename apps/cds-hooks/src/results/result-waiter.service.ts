import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { InferenceResultEntity } from '@app/database';
import { RESULT_SIGNAL, type ResultSignal } from '@app/messaging';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';

interface Waiter {
  resolve(result: InferenceResultEntity | undefined): void;
  timer: NodeJS.Timeout;
}

/**
 * Waits for inference results by request id. Results live in Postgres, so whichever replica waits
 * reads them there: a signal wakes it early, a poll catches any signal that was lost.
 */
@Injectable()
export class ResultWaiter implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ResultWaiter.name);
  private readonly waiters = new Map<string, Waiter>();
  private unsubscribe: (() => void) | undefined;
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(RESULT_SIGNAL) private readonly signal: ResultSignal,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.signal.subscribe((id) => {
      if (this.waiters.has(id)) void this.check([id]);
    });
    this.poller = setInterval(() => {
      if (this.waiters.size > 0) void this.check([...this.waiters.keys()]);
    }, this.config.RESULT_POLL_MS);
    this.poller.unref();
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    if (this.poller) clearInterval(this.poller);
    for (const [id, w] of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(undefined);
      this.waiters.delete(id);
    }
  }

  /** Resolves with the stored result, or undefined when the deadline passes first. */
  wait(requestId: string, deadlineMs: number): Promise<InferenceResultEntity | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(requestId, undefined), Math.max(0, deadlineMs - Date.now()));
      this.waiters.set(requestId, { resolve, timer });
      void this.check([requestId]);
    });
  }

  private async check(ids: string[]): Promise<void> {
    try {
      const rows = await this.dataSource.getRepository(InferenceResultEntity).findBy({ requestId: In(ids) });
      for (const row of rows) this.settle(row.requestId, row);
    } catch (e) {
      this.logger.warn(`result lookup failed: ${e instanceof Error ? e.name : 'error'}`);
    }
  }

  private settle(id: string, result: InferenceResultEntity | undefined): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    clearTimeout(w.timer);
    w.resolve(result);
  }
}
