import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { retryTransient } from '../transient-retry';

/** The context the whole pool accepts for one served model, as the proxy last published it. */
export interface ModelPoolLimit {
  readonly model: string;
  readonly contextTokens: number;
  /** How many backends had reported limits when the value was computed. */
  readonly backendsReporting: number;
  readonly updatedAt: Date;
}

/** How long publishing may ride out a cut connection: the next round publishes again anyway. */
const PUBLISH_WRITE_MS = 2000;

/** Named SQL: one row per model, replaced in place (updated_at moves even when the value did not). */
const UPSERT_SQL = `
  INSERT INTO model_pool_limits (model, context_tokens, backends_reporting, updated_at)
  VALUES ($1, $2, $3, now())
  ON CONFLICT (model) DO UPDATE
     SET context_tokens = EXCLUDED.context_tokens,
         backends_reporting = EXCLUDED.backends_reporting,
         updated_at = EXCLUDED.updated_at`;

const READ_SQL = `SELECT model, context_tokens, backends_reporting, updated_at FROM model_pool_limits WHERE model = $1`;

interface LimitRow {
  readonly model: string;
  readonly context_tokens: number;
  readonly backends_reporting: number;
  readonly updated_at: Date;
}

/** `model_pool_limits`: written by the inference proxy, read by cds-hooks to budget prompts. */
@Injectable()
export class ModelPoolLimitsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Publishes the pool's context for `model`; retried on a cut connection for a short while. */
  async publish(model: string, contextTokens: number, backendsReporting: number): Promise<void> {
    if (!Number.isInteger(contextTokens) || contextTokens <= 0)
      throw new RangeError(`context tokens must be a positive integer, got ${contextTokens}`);
    await retryTransient(
      () => this.dataSource.query(UPSERT_SQL, [model, contextTokens, backendsReporting]),
      Date.now() + PUBLISH_WRITE_MS,
    );
  }

  /** The published row for `model`, or null when none was published. */
  async read(model: string): Promise<ModelPoolLimit | null> {
    const rows: LimitRow[] = await this.dataSource.query(READ_SQL, [model]);
    const row = rows[0];
    if (!row) return null;
    return {
      model: row.model,
      contextTokens: row.context_tokens,
      backendsReporting: row.backends_reporting,
      updatedAt: new Date(row.updated_at),
    };
  }
}
