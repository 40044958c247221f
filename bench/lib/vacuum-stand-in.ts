/**
 * A stand-in for autovacuum where the benchmark's Postgres runs without it (this workplace's machines have
 * `autovacuum = off`). Sustained load leaves dead row versions on the hook path: every outbox row is inserted and
 * deleted, every inference request and hook invocation is updated, the audit chain's tail is trimmed (measured
 * without vacuum, 30 hooks/s for 3.5 min: ~14,000 dead tail rows, ~5,000 outbox, ~2,100 inference requests).
 * Before migration 1764560000000 the one chain head row was updated by every audit event and bloated fastest
 * (~2,400 dead versions in three minutes of the soak; every audit insert slowed with it, and hooks failed).
 * Production Postgres vacuums them; here a `VACUUM (SKIP_LOCKED, ANALYZE)` of the database runs every `everyMs`,
 * one at a time, for as long as the load runs. SKIP_LOCKED as autovacuum does: a table another session holds locked
 * (a database stall) is passed over, not waited for, so the stand-in never queues behind that lock.
 */
import { Client } from 'pg';

export interface VacuumStandIn {
  /** False when the server's own autovacuum is on (then nothing runs). */
  readonly active: boolean;
  /** VACUUM runs completed. */
  runs(): number;
  stop(): Promise<void>;
}

export async function standInAutovacuum(url: string, everyMs = 30_000): Promise<VacuumStandIn> {
  const client = new Client({ connectionString: url, application_name: 'meditron-bench-vacuum' });
  await client.connect();
  const { rows } = await client.query<{ autovacuum: string }>('SHOW autovacuum');
  if (rows[0]?.autovacuum === 'on') {
    await client.end();
    return { active: false, runs: () => 0, stop: async () => undefined };
  }
  let done = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, everyMs).unref();
      });
      if (stopped) break;
      await client.query('VACUUM (SKIP_LOCKED, ANALYZE)');
      done += 1;
    }
  })();
  return {
    active: true,
    runs: () => done,
    stop: async () => {
      stopped = true;
      wake?.();
      await loop.catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * Autovacuum's place between hook steps: on a Postgres with `autovacuum = off`, a plain `VACUUM (ANALYZE)` of the
 * step database after the previous step has drained and before the next starts (outside its measured window), so
 * a later step does not inherit every earlier step's dead row versions (outbox rows, updated requests and
 * invocations, the trimmed chain tail). Returns how long it took, or null when the server vacuums by itself or the database is unknown.
 */
export async function vacuumBetweenSteps(database: string | undefined, adminUrl: string): Promise<number | null> {
  if (!database) return null;
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  const client = new Client({ connectionString: url.toString(), application_name: 'meditron-bench-vacuum' });
  await client.connect();
  try {
    const { rows } = await client.query<{ autovacuum: string }>('SHOW autovacuum');
    if (rows[0]?.autovacuum === 'on') return null;
    const start = Date.now();
    await client.query('VACUUM (ANALYZE)');
    return Date.now() - start;
  } finally {
    await client.end().catch(() => undefined);
  }
}
