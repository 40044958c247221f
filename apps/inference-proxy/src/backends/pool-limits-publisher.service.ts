import { Logger } from '@nestjs/common';
import type { ModelPoolLimitsRepository } from '@app/database';
import { PeriodicTask } from '@app/timing';
import { poolContextTokens } from './backend-facts';
import type { BackendPool } from './backend-pool.service';

export interface PoolLimitsPublisherOptions {
  /** The served model name the row is keyed by (INFERENCE_MODEL): cds-hooks reads it under the same name. */
  readonly model: string;
  /** The profile's answer reservation, which TGI's input limit is widened by (see poolContextTokens). */
  readonly maxOutputTokens: number;
  /** How often the pool's value is looked at (the health round's interval: facts change no faster). */
  readonly checkMs: number;
  /** An unchanged value is written again this often, so readers can tell a live proxy from a stale row. */
  readonly refreshMs: number;
}

/**
 * Publishes the context every backend of the pool accepts (the smallest reported) to `model_pool_limits`, so
 * cds-hooks budgets prompts to what the servers take. Writes when the value changes and otherwise at most every
 * `refreshMs`; writes nothing while no backend reports limits (readers then keep the profile's constant).
 */
export class PoolLimitsPublisher {
  private readonly logger = new Logger(PoolLimitsPublisher.name);
  private readonly task: PeriodicTask;
  private published: { contextTokens: number; atMs: number } | null = null;

  constructor(
    private readonly pool: BackendPool,
    private readonly limits: ModelPoolLimitsRepository,
    private readonly opts: PoolLimitsPublisherOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.task = new PeriodicTask(
      opts.checkMs,
      async () => {
        await this.publishOnce();
      },
      {
        immediate: false,
        name: 'pool limits publish',
      },
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One look at the pool; true when a row was written. */
  async publishOnce(): Promise<boolean> {
    const contextTokens = this.pool.contextTokens(this.opts.maxOutputTokens);
    if (contextTokens === null || contextTokens <= 0) return false;
    const last = this.published;
    const changed = last === null || last.contextTokens !== contextTokens;
    if (!changed && this.now() - last.atMs < this.opts.refreshMs) return false;
    await this.limits.publish(this.opts.model, contextTokens, this.backendsReporting());
    this.published = { contextTokens, atMs: this.now() };
    if (changed)
      this.logger.log(
        `pool context for ${this.opts.model} is now ${contextTokens} tokens` +
          (last ? ` (was ${last.contextTokens})` : '') +
          `; published for prompt budgets`,
      );
    return true;
  }

  private backendsReporting(): number {
    return this.pool.backends.filter((b) => poolContextTokens([b.facts], this.opts.maxOutputTokens) !== null).length;
  }
}
