/**
 * The opt-in 20 ms timeline of a step (`bench/runtime-flags-ab.ts --timeline`): what the machine, each process
 * group and the step database's backends were doing, interval by interval, so that a tail episode's window can be
 * compared with the rest of the step (bench/lib/tail-episodes.ts). It reads every group's threads 50 times a
 * second and queries Postgres as often, on the same two cores: the official run never turns it on.
 */
import { Client } from 'pg';
import { ADMIN_URL } from '@app/testing/postgres';
import {
  busyTicks,
  readThreadKind,
  schedDelta,
  type CpuTimes,
  type Sched,
  type ThreadKind,
} from '@app/testing/proc-sched';
import { snapshot, type GroupPids, type Snapshot } from './cpu-contention';

export const SAMPLE_MS = 20;

/** What happened between two consecutive samples. */
export interface Interval {
  /** Epoch ms (performance.timeOrigin-based, the clock the load generator's answers are on). */
  readonly fromMs: number;
  readonly toMs: number;
  /**
   * Per group: on-CPU and run-queue wait ns of its threads over the interval, and of its processes' main threads
   * alone (a Node process's JavaScript thread: its wait delays every answer; the rest are GC, JIT, libuv pool).
   */
  readonly groups: Readonly<Record<string, GroupSample>>;
  /** /proc/stat ticks of all cores over the interval (busy = user + nice + system + irq + softirq). */
  readonly ticks: { readonly busy: number; readonly steal: number; readonly total: number } | null;
  /** PSI `some` growth over the interval, µs (null without PSI). */
  readonly psiCpuUs: number | null;
  readonly psiIoUs: number | null;
  /**
   * The step database's non-idle backends at the interval's end, by what they were doing (`Lock:tuple`,
   * `LWLock:WALWrite`, `on CPU` for active without a wait event, `idle in transaction`); null when the previous
   * query had not come back yet (skipped, so a slow Postgres does not pile up queries).
   */
  readonly pgWaits: Readonly<Record<string, number>> | null;
}

export interface GroupSample {
  readonly onCpuNs: number;
  readonly waitNs: number;
  readonly mainWaitNs: number;
  /**
   * On-CPU ns by thread kind (main, v8, libuv, other; proc-sched's threadKind): whether a burst of a Node process
   * was its JavaScript, its garbage collector / JIT compiler, or its thread pool.
   */
  readonly onCpuNsByKind: Readonly<Partial<Record<ThreadKind, number>>>;
}

/** The main threads (tid = pid) of a `pid/tid`-keyed reading. */
function mainThreads(m: ReadonlyMap<string, Sched>): Map<string, Sched> {
  return new Map([...m].filter(([k]) => k.slice(0, k.indexOf('/')) === k.slice(k.indexOf('/') + 1)));
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/** What a backend row of pg_stat_activity was doing, as one label. */
export function waitLabel(r: {
  state: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
}): string {
  if (r.state !== 'active') return r.state ?? 'unknown';
  return r.wait_event_type ? `${r.wait_event_type}:${r.wait_event ?? '?'}` : 'on CPU';
}

function ticksOf(a: CpuTimes, b: CpuTimes): NonNullable<Interval['ticks']> {
  const busy = busyTicks(a, b);
  const d = (k: keyof CpuTimes): number => Math.max(0, b[k] - a[k]);
  return { busy, steal: d('steal'), total: busy + d('idle') + d('iowait') + d('steal') };
}

/** Thread names, read once per thread (a Node thread keeps the name it started with). */
const kinds = new Map<string, ThreadKind>();
function kindOf(key: string): ThreadKind {
  let k = kinds.get(key);
  if (k === undefined) {
    k = readThreadKind(key);
    kinds.set(key, k);
  }
  return k;
}

/** On-CPU ns of each thread kind between two readings (a thread new at `end` counts from 0). */
function onCpuByKind(
  start: ReadonlyMap<string, Sched>,
  end: ReadonlyMap<string, Sched>,
): Partial<Record<ThreadKind, number>> {
  const out: Partial<Record<ThreadKind, number>> = {};
  for (const [key, e] of end) {
    const s = start.get(key);
    const grew = s !== undefined && e.onCpuNs >= s.onCpuNs ? e.onCpuNs - s.onCpuNs : e.onCpuNs;
    const kind = kindOf(key);
    out[kind] = (out[kind] ?? 0) + grew;
  }
  return out;
}

function intervalOf(a: Snapshot, b: Snapshot, fromMs: number, toMs: number, pgWaits: Interval['pgWaits']): Interval {
  const groups: Record<string, GroupSample> = {};
  for (const [g, end] of b.groups) {
    const start = a.groups.get(g)?.threads ?? new Map<string, Sched>();
    const d = schedDelta(start, end.threads);
    const main = schedDelta(mainThreads(start), mainThreads(end.threads));
    groups[g] = {
      onCpuNs: d.onCpuNs,
      waitNs: d.waitNs,
      mainWaitNs: main.waitNs,
      onCpuNsByKind: onCpuByKind(start, end.threads),
    };
  }
  const ticks = a.cpu && b.cpu ? ticksOf(a.cpu, b.cpu) : null;
  const growth = (x: number | null, y: number | null): number | null => (x === null || y === null ? null : y - x);
  return {
    fromMs,
    toMs,
    groups,
    ticks,
    psiCpuUs: growth(a.psiCpuUs, b.psiCpuUs),
    psiIoUs: growth(a.psiIoUs, b.psiIoUs),
    pgWaits,
  };
}

interface WaitRow {
  pid: number;
  state: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
  application_name: string;
}

/**
 * Starts sampling every SAMPLE_MS; stop() ends it and returns the intervals. A backend of the database first seen
 * active in a sample joins the `postgres` group from the next sample on (its threads count from then: schedDelta
 * sees it as new at that sample, so its time before is not charged to one interval).
 */
export async function startTimeline(
  pids: GroupPids,
  database: string | undefined,
  adminUrl = ADMIN_URL,
): Promise<{ stop(): Promise<Interval[]> }> {
  const client = database
    ? new Client({ connectionString: adminUrl, application_name: 'meditron-bench-timeline' })
    : null;
  await client?.connect();
  const groups: Record<string, number[]> = Object.fromEntries(Object.entries(pids).map(([g, l]) => [g, [...l]]));
  const intervals: Interval[] = [];
  let prev = snapshot(groups);
  let prevAt = epochNow();
  let lastWaits: Interval['pgWaits'] = null;
  let querying = false;
  const query = (): void => {
    if (!client || querying) return;
    querying = true;
    client
      .query<WaitRow>(
        "SELECT pid, wait_event_type, wait_event, state, application_name FROM pg_stat_activity WHERE datname = $1 AND state <> 'idle'",
        [database],
      )
      .then(
        ({ rows }) => {
          const waits: Record<string, number> = {};
          for (const r of rows) {
            const label = waitLabel(r);
            waits[label] = (waits[label] ?? 0) + 1;
            const pg = (groups.postgres ??= []);
            if (!pg.includes(r.pid)) pg.push(r.pid);
          }
          lastWaits = waits;
        },
        () => {
          lastWaits = null;
        },
      )
      .finally(() => {
        querying = false;
      });
  };
  const tick = (): void => {
    const now = snapshot(groups);
    const at = epochNow();
    // The wait events seen by the query that came back since the last tick; null when none did.
    intervals.push(intervalOf(prev, now, prevAt, at, lastWaits));
    lastWaits = null;
    prev = now;
    prevAt = at;
    query();
  };
  query();
  const timer = setInterval(tick, SAMPLE_MS);
  return {
    async stop() {
      clearInterval(timer);
      tick();
      await client?.end().catch(() => undefined);
      return intervals;
    },
  };
}
