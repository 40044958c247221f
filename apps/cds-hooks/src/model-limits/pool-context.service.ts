import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ModelPoolLimitsRepository, type ModelPoolLimit } from '@app/database';
import { MODEL_PROFILE, type ModelProfile } from '@app/prompts';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';

export interface PoolContextOptions {
  /** How long a read row is reused: hooks never wait on this table each time. */
  readonly cacheMs: number;
  /** A row older than this is a proxy that stopped publishing: its value is no longer trusted. */
  readonly maxAgeMs: number;
  readonly now: () => number;
}

export const POOL_CONTEXT_OPTIONS = Symbol('POOL_CONTEXT_OPTIONS');

const DEFAULTS: PoolContextOptions = { cacheMs: 15_000, maxAgeMs: 10 * 60_000, now: Date.now };

/** Where a prompt's context came from, for the log and tests. */
export type ContextSource = 'pool' | 'profile';

/**
 * The context prompts are budgeted for: the smaller of the model's own (the profile's constant) and what every
 * server of the pool accepts, as the inference proxy publishes it (`model_pool_limits`). A server may report a
 * larger `max_model_len` than the model was trained for; the model's limit still holds. Without a fresh row the
 * profile's constant is used.
 */
@Injectable()
export class PoolContextService {
  private readonly logger = new Logger(PoolContextService.name);
  private readonly opts: PoolContextOptions;
  private cached: { row: ModelPoolLimit | null; readAtMs: number } | null = null;
  private reading: Promise<ModelPoolLimit | null> | null = null;
  private lastSource: ContextSource | null = null;

  constructor(
    private readonly limits: ModelPoolLimitsRepository,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
    @Inject(MODEL_PROFILE) private readonly profile: ModelProfile,
    @Optional() @Inject(POOL_CONTEXT_OPTIONS) opts?: Partial<PoolContextOptions>,
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  /** Context tokens to budget a prompt for now. */
  async contextTokens(): Promise<number> {
    return (await this.current()).contextTokens;
  }

  async current(): Promise<{ contextTokens: number; source: ContextSource }> {
    const row = await this.row();
    const fresh = row !== null && this.opts.now() - row.updatedAt.getTime() <= this.opts.maxAgeMs;
    const answer = fresh
      ? { contextTokens: Math.min(this.profile.contextTokens, row.contextTokens), source: 'pool' as const }
      : { contextTokens: this.profile.contextTokens, source: 'profile' as const };
    this.noteSource(answer.source, answer.contextTokens, row !== null && !fresh);
    return answer;
  }

  private async row(): Promise<ModelPoolLimit | null> {
    const now = this.opts.now();
    if (this.cached && now - this.cached.readAtMs < this.opts.cacheMs) return this.cached.row;
    // Concurrent hooks share one read.
    this.reading ??= this.limits
      .read(this.config.INFERENCE_MODEL)
      .catch((e: unknown) => {
        // The hook goes on with the profile's constant; the next read after cacheMs tries again.
        this.logger.warn(`reading the pool's context failed: ${e instanceof Error ? e.name : 'error'}`);
        return null;
      })
      .then((row) => {
        this.cached = { row, readAtMs: this.opts.now() };
        return row;
      })
      .finally(() => (this.reading = null));
    return this.reading;
  }

  /** Logs when the budget's source changes (so a fallback is logged once, not per hook). */
  private noteSource(source: ContextSource, contextTokens: number, stale: boolean): void {
    if (source === this.lastSource) return;
    this.lastSource = source;
    if (source === 'pool')
      this.logger.log(`prompts for ${this.config.INFERENCE_MODEL} are budgeted for the pool's ${contextTokens} tokens`);
    else
      this.logger.warn(
        `no ${stale ? 'fresh ' : ''}pool context published for ${this.config.INFERENCE_MODEL}: ` +
          `prompts are budgeted for the ${this.profile.id} profile's ${contextTokens} tokens`,
      );
  }
}
