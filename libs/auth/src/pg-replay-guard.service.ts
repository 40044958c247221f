import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { hotQuery } from '@app/database';
import { PeriodicTask } from '@app/timing';

/** Remembers each (issuer, jti) until the token could no longer be accepted anyway. */
export interface ReplayGuard {
  /** True the first time a jti is seen for this issuer; false on a replay. */
  claim(issuer: string, jti: string, keepUntil: Date): Promise<boolean>;
}

export function jtiHash(issuer: string, jti: string): string {
  return createHash('sha256').update(issuer).update('\n').update(jti).digest('hex');
}

/** Named SQL: one claim (see PgReplayGuard). */
export const JWT_REPLAY_CLAIM_SQL = `SELECT jwt_replay_claim($1, $2) AS claimed`;

/**
 * The replay table in Postgres, so every gateway replica sees every jti: the primary key decides who saw it
 * first. Only the hash and the expiry are stored. A row past its expiry may be taken over (it is awaiting purge).
 * One call of `jwt_replay_claim` (migration 1764530000000), which commits without waiting for the WAL flush: a claim
 * is visible to every replica at once; what a Postgres crash can cost is said there.
 */
export class PgReplayGuard implements ReplayGuard {
  constructor(private readonly dataSource: DataSource) {}

  async claim(issuer: string, jti: string, keepUntil: Date): Promise<boolean> {
    const rows = await hotQuery<{ claimed: boolean }>(this.dataSource, JWT_REPLAY_CLAIM_SQL, [
      jtiHash(issuer, jti),
      keepUntil,
    ]);
    return rows[0]?.claimed === true;
  }

  /** Deletes expired rows; returns how many. */
  async purgeExpired(): Promise<number> {
    const rows: Array<{ n: string }> = await this.dataSource.query(
      `WITH gone AS (DELETE FROM jwt_replay WHERE expires_at < now() RETURNING 1) SELECT count(*)::text AS n FROM gone`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Purges every `intervalMs` in the background, the first time after one interval; returns the stop function. */
  startPurging(intervalMs: number, onError: (e: unknown) => void): () => Promise<void> {
    const task = new PeriodicTask(intervalMs, () => this.purgeExpired().then(() => undefined, onError), {
      immediate: false,
    });
    task.start();
    return () => task.stop();
  }
}
