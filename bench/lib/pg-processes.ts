/**
 * The Postgres processes a step's time is attributed to: `postgres` = the step database's backends
 * (pg_stat_activity, as test/support/pg-backend-cpu.ts finds them), `pg-other` = every other process named
 * postgres on this machine (the postmaster and its auxiliary processes: walwriter, checkpointer, background
 * writer, autovacuum launcher, logical replication launcher; other databases' backends, the sampling connection
 * itself). Only a Postgres on this machine, in this pid namespace, can be read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { notLocal, sampleBackends } from '@app/testing/pg-backend-cpu';
import { ADMIN_URL } from '@app/testing/postgres';

/** Pids of every process on this machine whose command name is `postgres`. */
function allPostgresPids(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') out.push(Number(entry));
    } catch {
      // Exited after the listing.
    }
  }
  return out;
}

/** The two Postgres groups' pids now; both empty for a Postgres elsewhere or an unreadable pg_stat_activity. */
export async function postgresGroups(
  database: string | undefined,
  adminUrl = ADMIN_URL,
): Promise<{ postgres: number[]; 'pg-other': number[] }> {
  if (!database || notLocal(adminUrl)) return { postgres: [], 'pg-other': [] };
  const backends = await sampleBackends(database, adminUrl).catch(() => new Map<number, unknown>());
  const mine = [...backends.keys()];
  return { postgres: mine, 'pg-other': allPostgresPids().filter((p) => !backends.has(p)) };
}
