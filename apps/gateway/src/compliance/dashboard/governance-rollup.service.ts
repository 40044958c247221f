import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { PeriodicTask } from '@app/timing';
import { factsSql } from './dashboard.sql';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** An hour is rolled up once it closed this long ago: every hook call received in it has been answered by then. */
const SETTLE_MS = 10 * 60_000;
/** Hours per transaction while catching up (a fresh rollup over months of history). */
const CHUNK_HOURS = 24;

export function floorHour(d: Date): Date {
  return new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS);
}

/** Midnight UTC at or before `d`. */
export function floorDay(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}

/**
 * Rolls closed hours up into `governance_hourly`, in order, behind a watermark (`governance_rollup_state`). One replica
 * works at a time (transaction-scoped advisory lock); a failed run is retried by the next.
 */
export class GovernanceRollup implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(GovernanceRollup.name);
  private readonly task: PeriodicTask;

  constructor(
    private readonly ds: DataSource,
    intervalMs: number,
  ) {
    // Not at boot: embedded PGlite (npm start) trips over one more connection opening while the apps start.
    this.task = new PeriodicTask(intervalMs, () => this.run().then(() => undefined), { immediate: false });
  }

  onModuleInit(): void {
    this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  /** Rolls up every hour closed by `now` not rolled up yet; answers how many hours it rolled. */
  async run(now = new Date(), maxChunks = 200): Promise<number> {
    const target = floorHour(new Date(now.getTime() - SETTLE_MS));
    let rolled = 0;
    for (let i = 0; i < maxChunks; i++) {
      const hours = await this.chunk(target);
      if (hours === 0) break;
      rolled += hours;
    }
    await this.days();
    if (rolled > 0) this.logger.log(`rolled up ${rolled} hours of governance figures`);
    return rolled;
  }

  /** Sums every whole day the hourly rollup covers (and the daily one does not yet) into `governance_daily`. */
  private days(): Promise<void> {
    return this.ds.transaction(async (tx) => {
      const locked: Array<{ ok: boolean }> = await tx.query(
        `SELECT pg_try_advisory_xact_lock(hashtext('governance_rollup')) AS ok`,
      );
      if (!locked[0]?.ok) return;
      const state: Array<{ rolled_through: Date | null; days_through: Date | null; first: Date | null }> =
        await tx.query(
          `SELECT rolled_through, days_through, (SELECT min(hour) FROM governance_hourly) AS first
             FROM governance_rollup_state WHERE singleton FOR UPDATE`,
        );
      const s = state[0];
      if (!s?.rolled_through || !s.first) return;
      const start = s.days_through ?? floorDay(s.first);
      const end = floorDay(s.rolled_through);
      if (end <= start) return;
      await tx.query(`DELETE FROM governance_daily WHERE day >= $1 AND day < $2`, [start, end]);
      await tx.query(
        `INSERT INTO governance_daily (day, service_id, metric, label, n)
         SELECT date_trunc('day', hour, 'UTC'), service_id, metric, label, sum(n) FROM governance_hourly
          WHERE hour >= $1 AND hour < $2 GROUP BY 1, 2, 3, 4`,
        [start, end],
      );
      await tx.query(`UPDATE governance_rollup_state SET days_through = $1 WHERE singleton`, [end]);
    });
  }

  private chunk(target: Date): Promise<number> {
    return this.ds.transaction(async (tx) => {
      const locked: Array<{ ok: boolean }> = await tx.query(
        `SELECT pg_try_advisory_xact_lock(hashtext('governance_rollup')) AS ok`,
      );
      if (!locked[0]?.ok) return 0;
      const state: Array<{ rolled_through: Date | null }> = await tx.query(
        `SELECT rolled_through FROM governance_rollup_state WHERE singleton FOR UPDATE`,
      );
      const start = state[0]?.rolled_through ?? (await this.firstHour(tx.query.bind(tx)));
      if (!start || start >= target) return 0;
      const end = new Date(Math.min(start.getTime() + CHUNK_HOURS * HOUR_MS, target.getTime()));
      await tx.query(`DELETE FROM governance_hourly WHERE hour >= $1 AND hour < $2`, [start, end]);
      await tx.query(
        `INSERT INTO governance_hourly (hour, service_id, metric, label, n)
         SELECT hour, service_id, metric, label, sum(n) FROM (${factsSql(1, 2)}) f GROUP BY 1, 2, 3, 4`,
        [start, end],
      );
      await tx.query(`UPDATE governance_rollup_state SET rolled_through = $1 WHERE singleton`, [end]);
      return Math.round((end.getTime() - start.getTime()) / HOUR_MS);
    });
  }

  /** The hour of the oldest row any figure comes from (each read from its time index). */
  private async firstHour(query: (sql: string) => Promise<Array<{ first: Date | null }>>): Promise<Date | null> {
    const rows = await query(
      `SELECT least((SELECT min(received_at) FROM hook_invocations), (SELECT min(created_at) FROM cds_cards),
                    (SELECT min(received_at) FROM feedback), (SELECT min(completed_at) FROM inference_results)) AS first`,
    );
    const first = rows[0]?.first;
    return first ? floorHour(first) : null;
  }
}
