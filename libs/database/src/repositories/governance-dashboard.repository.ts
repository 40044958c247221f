import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { dashboardSql, shadowSamplesSql, type FactSegment } from './governance-facts.sql';

export type { FactSegment } from './governance-facts.sql';

/** How far the rollups reach: hours through `hoursThrough` are in `governance_hourly`, days through `daysThrough` in `governance_daily`. */
export interface GovernanceRollupState {
  readonly hoursThrough: Date | null;
  readonly daysThrough: Date | null;
}

/**
 * One row of the dashboard statement: `kind` 'fact' (metric, label, n), 'volume' (metric, bucket, n) or 'shadow'
 * (metric, label = service, n); `n` as the driver gives a bigint (a string).
 */
export type GovernanceFactRow = Readonly<Record<string, unknown>>;

/** One shadow-mode answer: service, received_at and the withheld cards' preview (indicator and summary only). */
export type ShadowSampleRow = Readonly<Record<string, unknown>>;

/** Reads the governance figures: the rollup watermarks, the facts of a period, and the latest shadow-mode samples. */
@Injectable()
export class GovernanceDashboardRepository {
  constructor(private readonly ds: DataSource) {}

  async rollupState(): Promise<GovernanceRollupState> {
    const rows = await this.ds.query<Array<{ rolled_through: Date | null; days_through: Date | null }>>(
      `SELECT rolled_through, days_through FROM governance_rollup_state WHERE singleton`,
    );
    return { hoursThrough: rows[0]?.rolled_through ?? null, daysThrough: rows[0]?.days_through ?? null };
  }

  /** Every fact of these segments, for one service or all (`service` null), volume charted per `bucket`. */
  facts(
    segments: ReadonlyArray<FactSegment>,
    service: string | null,
    bucket: 'hour' | 'day',
  ): Promise<GovernanceFactRow[]> {
    const { sql, params } = dashboardSql(segments);
    return this.ds.query<GovernanceFactRow[]>(sql, [service, bucket, ...params]);
  }

  /** The latest withheld cards in [from, to), latest first, for one service or all. */
  shadowSamples(from: Date, to: Date, service: string | null): Promise<ShadowSampleRow[]> {
    return this.ds.query<ShadowSampleRow[]>(
      shadowSamplesSql(service !== null),
      service !== null ? [from, to, service] : [from, to],
    );
  }
}
