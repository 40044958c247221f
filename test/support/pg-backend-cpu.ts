/**
 * CPU time of the Postgres backends serving one database, by application_name: the benchmark's "Postgres CPU per
 * hook, per app". Backends come from pg_stat_activity (read as the superuser), their user + system CPU from
 * /proc/<pid>/stat, so only a Postgres on this machine (and in this pid namespace) can be measured.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { ADMIN_URL } from './postgres';

/** One backend at one instant (ticks null: its /proc could not be read, or it is not a postgres process here). */
export interface Backend {
  readonly app: string;
  /** user + system CPU in clock ticks; null when unreadable. */
  readonly ticks: number | null;
  /** Start time in clock ticks after boot (/proc field 22): tells a reused pid from the same backend. */
  readonly started: number | null;
}

/** The backends of one database at one instant, by pid. */
export type BackendSample = ReadonlyMap<number, Backend>;

export interface PgCpu {
  /**
   * Backend CPU (user + system) in ms per hook answered, by application_name; an app is null when one of its
   * backends could not be read. The whole field is null when nothing could be measured (see `unmeasured`).
   */
  readonly msPerHook: Record<string, number | null> | null;
  /** Backends at the start and at the end; opened during the step (counted from 0); gone by its end (CPU lost). */
  readonly backends?: { start: number; end: number; opened: number; closed: number };
  /** Why msPerHook is null. */
  readonly unmeasured?: string;
}

/**
 * Per-app CPU between two samples, per hook answered. A backend present at both ends counts its growth; one first
 * seen at the end (a pool connection opened during the step) counts from 0; one gone by the end (closed during the
 * step) is left out, so its CPU since the start is lost.
 */
export function pgCpuDelta(start: BackendSample, end: BackendSample, hooks: number, ticksPerS: number): PgCpu {
  const ticks = new Map<string, number | null>();
  let opened = 0;
  for (const [pid, b] of end) {
    const before = start.get(pid);
    const same = before !== undefined && before.started === b.started;
    if (!same) opened++;
    const base = same ? before.ticks : 0;
    const prev = ticks.has(b.app) ? ticks.get(b.app)! : 0;
    ticks.set(b.app, prev === null || b.ticks === null || base === null ? null : prev + b.ticks - base);
  }
  let closed = 0;
  for (const [pid, b] of start) {
    const after = end.get(pid);
    if (after === undefined || after.started !== b.started) closed++;
  }
  const msPerHook: Record<string, number | null> = {};
  for (const [app, t] of [...ticks].sort(([a], [b]) => a.localeCompare(b))) {
    msPerHook[app] = t === null || hooks <= 0 ? null : Math.round(((t * 1000) / ticksPerS / hooks) * 100) / 100;
  }
  return { msPerHook, backends: { start: start.size, end: end.size, opened, closed } };
}

let ticksPerSecond: number | undefined;
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** null when the backend exited before /proc was read; ticks null when /proc is unreadable or not a postgres. */
function readBackend(pid: number, app: string): Backend | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { app, ticks: null, started: null };
  }
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  // Another pid namespace (Postgres in a container publishing on 127.0.0.1): the pid here is someone else.
  if (comm !== 'postgres') return { app, ticks: null, started: null };
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { app, ticks: Number(fields[11]) + Number(fields[12]), started: Number(fields[19]) };
}

/** Why the backends of ADMIN_URL's Postgres cannot be read here, or undefined when they can. */
export function notLocal(adminUrl: string): string | undefined {
  const host = new URL(adminUrl).hostname.replace(/^\[|\]$/g, '');
  return ['', '127.0.0.1', 'localhost', '::1'].includes(host)
    ? undefined
    : `Postgres at ${host} is not on this machine: its backends' /proc cannot be read`;
}

/** The backends of `database` now (the sampling connection itself is in ADMIN_URL's database, not counted). */
export async function sampleBackends(database: string, adminUrl = ADMIN_URL): Promise<BackendSample> {
  const c = new Client({ connectionString: adminUrl, application_name: 'meditron-bench-pg-cpu' });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number; app: string }>(
      // No application_name: a background process on the database (autovacuum worker): named by its backend_type.
      "SELECT pid, coalesce(nullif(application_name, ''), backend_type) AS app FROM pg_stat_activity WHERE datname = $1",
      [database],
    );
    const out = new Map<number, Backend>();
    for (const r of rows) {
      const b = readBackend(r.pid, r.app);
      if (b) out.set(r.pid, b);
    }
    return out;
  } finally {
    await c.end();
  }
}

/**
 * Samples the backends of `database` now; `stop(hooks)` samples again and returns the per-app CPU per hook between
 * the two. Never throws: what could not be measured is null, with the reason.
 */
export async function startPgCpu(
  database: string,
  adminUrl = ADMIN_URL,
): Promise<{ stop(hooks: number): Promise<PgCpu> }> {
  const why = notLocal(adminUrl);
  if (why) return { stop: () => Promise.resolve({ msPerHook: null, unmeasured: why }) };
  const failed = (e: unknown): PgCpu => ({
    msPerHook: null,
    unmeasured: `pg_stat_activity could not be read: ${e instanceof Error ? e.message : String(e)}`,
  });
  let start: BackendSample;
  try {
    start = await sampleBackends(database, adminUrl);
  } catch (e) {
    return { stop: () => Promise.resolve(failed(e)) };
  }
  return {
    async stop(hooks) {
      try {
        const delta = pgCpuDelta(start, await sampleBackends(database, adminUrl), hooks, clockTicksPerSecond());
        const unreadable = Object.keys(delta.msPerHook ?? {}).filter((a) => delta.msPerHook?.[a] === null);
        return unreadable.length && hooks > 0
          ? {
              ...delta,
              unmeasured: `/proc of a backend unreadable (or not a postgres process here): ${unreadable.join(', ')}`,
            }
          : delta;
      } catch (e) {
        return failed(e);
      }
    },
  };
}
