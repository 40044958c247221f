import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { factsSql } from './governance-facts.sql';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export function floorHour(d: Date): Date {
  return new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS);
}

/** Midnight UTC at or before `d`. */
export function floorDay(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}

const SQL = {
  /** Transaction-scoped: one replica rolls up at a time; the others skip the run. */
  lock: `SELECT pg_try_advisory_xact_lock(hashtext('governance_rollup')) AS ok`,
  hoursState: `SELECT rolled_through FROM governance_rollup_state WHERE singleton FOR UPDATE`,
  daysState: `SELECT rolled_through, days_through, (SELECT min(hour) FROM governance_hourly) AS first
                FROM governance_rollup_state WHERE singleton FOR UPDATE`,
  /** The oldest row any figure comes from (each read from its time index). */
  firstRow: `SELECT least((SELECT min(received_at) FROM hook_invocations), (SELECT min(created_at) FROM cds_cards),
                    (SELECT min(received_at) FROM feedback), (SELECT min(completed_at) FROM inference_results)) AS first`,
  clearHours: `DELETE FROM governance_hourly WHERE hour >= $1 AND hour < $2`,
  insertHours: `INSERT INTO governance_hourly (hour, service_id, metric, label, n)
                SELECT hour, service_id, metric, label, sum(n) FROM (${factsSql(1, 2)}) f GROUP BY 1, 2, 3, 4`,
  hoursThrough: `UPDATE governance_rollup_state SET rolled_through = $1 WHERE singleton`,
  clearDays: `DELETE FROM governance_daily WHERE day >= $1 AND day < $2`,
  insertDays: `INSERT INTO governance_daily (day, service_id, metric, label, n)
               SELECT date_trunc('day', hour, 'UTC'), service_id, metric, label, sum(n) FROM governance_hourly
                WHERE hour >= $1 AND hour < $2 GROUP BY 1, 2, 3, 4`,
  daysThrough: `UPDATE governance_rollup_state SET days_through = $1 WHERE singleton`,
} as const;

/**
 * The governance rollups: `governance_hourly` and `governance_daily` behind their watermarks in
 * `governance_rollup_state`. Each step is one transaction under a transaction-scoped advisory lock.
 */
@Injectable()
export class GovernanceRollupRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Rolls up the next hours after the watermark (from the first recorded row on a fresh rollup), at most `maxHours`
   * and not past `target`; answers how many hours it rolled (0: nothing to do, or another replica holds the lock).
   */
  rollHours(target: Date, maxHours: number): Promise<number> {
    return this.ds.transaction(async (tx) => {
      if (!(await locked(tx))) return 0;
      const state: Array<{ rolled_through: Date | null }> = await tx.query(SQL.hoursState);
      const start = state[0]?.rolled_through ?? (await firstHour(tx));
      if (!start || start >= target) return 0;
      const end = new Date(Math.min(start.getTime() + maxHours * HOUR_MS, target.getTime()));
      await tx.query(SQL.clearHours, [start, end]);
      await tx.query(SQL.insertHours, [start, end]);
      await tx.query(SQL.hoursThrough, [end]);
      return Math.round((end.getTime() - start.getTime()) / HOUR_MS);
    });
  }

  /** Sums every whole day the hourly rollup covers (and the daily one does not yet) into `governance_daily`. */
  rollDays(): Promise<void> {
    return this.ds.transaction(async (tx) => {
      if (!(await locked(tx))) return;
      const state: Array<{ rolled_through: Date | null; days_through: Date | null; first: Date | null }> =
        await tx.query(SQL.daysState);
      const s = state[0];
      if (!s?.rolled_through || !s.first) return;
      const start = s.days_through ?? floorDay(s.first);
      const end = floorDay(s.rolled_through);
      if (end <= start) return;
      await tx.query(SQL.clearDays, [start, end]);
      await tx.query(SQL.insertDays, [start, end]);
      await tx.query(SQL.daysThrough, [end]);
    });
  }
}

async function locked(tx: EntityManager): Promise<boolean> {
  const rows: Array<{ ok: boolean }> = await tx.query(SQL.lock);
  return rows[0]?.ok === true;
}

async function firstHour(tx: EntityManager): Promise<Date | null> {
  const rows: Array<{ first: Date | null }> = await tx.query(SQL.firstRow);
  const first = rows[0]?.first;
  return first ? floorHour(first) : null;
}
