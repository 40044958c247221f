/**
 * Where a step's time went on the machine, per process group: read at the step's start and stop only, so it costs
 * nothing during the step. Machine-wide: busy / steal / iowait shares of all cores (/proc/stat). Per group: on-CPU
 * and run-queue wait time of every thread (/proc/<pid>/task/<tid>/schedstat). Run-queue wait is time a thread was
 * runnable but not on a CPU: the cores were busy with other threads, or the hypervisor was running another guest
 * (steal). Pressure stall (PSI) totals say how much of the wall time some task stalled on CPU or IO.
 */
import { clockTicksPerSecond } from '@app/testing/pg-backend-cpu';
import {
  busyTicks,
  cpuShares,
  readCpuTimes,
  readPressure,
  readProcessSched,
  schedDelta,
  type CpuShares,
  type CpuTimes,
  type Sched,
} from '@app/testing/proc-sched';

/** One group's threads over the step. */
export interface GroupTime {
  readonly onCpuMs: number;
  readonly waitMs: number;
  /** Per hook answered (null: none answered). */
  readonly onCpuMsPerHook: number | null;
  readonly waitMsPerHook: number | null;
  /** Processes read at either end; threads seen at the start / end, appeared (counted from 0), vanished (lost). */
  readonly processes: number;
  readonly threads: { start: number; end: number; appeared: number; vanished: number };
}

export interface CpuContention {
  readonly wallMs: number;
  /** Shares of all cores over the step; null when /proc/stat is unreadable. */
  readonly machine: CpuShares | null;
  /** PSI `some` stall time as % of the step's wall time; null without /proc/pressure. */
  readonly psi: { readonly cpuSomePct: number | null; readonly ioSomePct: number | null };
  /** By group: `sut` (or gateway / cds-hooks / inference-proxy deployed), double, load, postgres, pg-other, harness. */
  readonly groups: Readonly<Record<string, GroupTime>>;
  /**
   * The machine's busy CPU time outside every group, ms (/proc/stat busy − the groups' on-CPU; tick-grained, so
   * ± 10 ms per core): other sessions' processes, kernel threads, interrupts. null without /proc/stat.
   */
  readonly otherOnCpuMs: number | null;
}

/** The pids of each group at one instant. */
export type GroupPids = Readonly<Record<string, readonly number[]>>;

/** Every counter at one instant. */
export interface Snapshot {
  /** performance.now() */
  readonly at: number;
  readonly cpu: CpuTimes | null;
  readonly psiCpuUs: number | null;
  readonly psiIoUs: number | null;
  readonly groups: ReadonlyMap<string, { readonly processes: number; readonly threads: ReadonlyMap<string, Sched> }>;
}

export function snapshot(pids: GroupPids): Snapshot {
  const groups = new Map<string, { processes: number; threads: Map<string, Sched> }>();
  for (const [group, list] of Object.entries(pids)) {
    const threads = new Map<string, Sched>();
    for (const pid of new Set(list)) for (const [k, v] of readProcessSched(pid)) threads.set(k, v);
    groups.set(group, { processes: new Set(list).size, threads });
  }
  return {
    at: performance.now(),
    cpu: readCpuTimes(),
    psiCpuUs: readPressure('cpu'),
    psiIoUs: readPressure('io'),
    groups,
  };
}

const r2 = (v: number): number => Math.round(v * 100) / 100;

/** /proc/stat clock ticks to ms. */
export const ticksToMs = (ticks: number): number => (ticks * 1000) / clockTicksPerSecond();

/** PSI growth (µs) as % of a wall time (ms); null when either reading is missing. */
export function psiPct(a: number | null, b: number | null, wallMs: number): number | null {
  return a === null || b === null || wallMs <= 0 ? null : Math.round(((b - a) / 1000 / wallMs) * 1000) / 10;
}

/** Everything between two snapshots; per-hook figures divide by `hooks` (answers in the window). */
export function between(a: Snapshot, b: Snapshot, hooks: number): CpuContention {
  const wallMs = b.at - a.at;
  const groups: Record<string, GroupTime> = {};
  for (const [group, end] of b.groups) {
    const start = a.groups.get(group) ?? { processes: 0, threads: new Map<string, Sched>() };
    const d = schedDelta(start.threads, end.threads);
    const onCpuMs = d.onCpuNs / 1e6;
    const waitMs = d.waitNs / 1e6;
    groups[group] = {
      onCpuMs: r2(onCpuMs),
      waitMs: r2(waitMs),
      onCpuMsPerHook: hooks > 0 ? r2(onCpuMs / hooks) : null,
      waitMsPerHook: hooks > 0 ? r2(waitMs / hooks) : null,
      processes: Math.max(start.processes, end.processes),
      threads: { start: start.threads.size, end: end.threads.size, appeared: d.appeared, vanished: d.vanished },
    };
  }
  const groupsMs = Object.values(groups).reduce((sum, g) => sum + g.onCpuMs, 0);
  return {
    wallMs: Math.round(wallMs),
    machine: a.cpu && b.cpu ? cpuShares(a.cpu, b.cpu) : null,
    otherOnCpuMs: a.cpu && b.cpu ? r2(Math.max(0, ticksToMs(busyTicks(a.cpu, b.cpu)) - groupsMs)) : null,
    psi: { cpuSomePct: psiPct(a.psiCpuUs, b.psiCpuUs, wallMs), ioSomePct: psiPct(a.psiIoUs, b.psiIoUs, wallMs) },
    groups,
  };
}

/**
 * Starts a step's window: reads every group's pids (resolve()) and counters now; stop(hooks) resolves the pids
 * again (a Postgres backend opened during the step is counted from 0) and reads the counters of both lists.
 */
export async function startCpuContention(
  resolve: () => Promise<GroupPids>,
): Promise<{ stop(hooks: number): Promise<CpuContention> }> {
  const pids0 = await resolve();
  const a = snapshot(pids0);
  return {
    async stop(hooks) {
      // Counters first, pid listing after: the listing's own query must not fall in the window.
      const b0 = snapshot(pids0);
      const pids1 = await resolve();
      const extra: Record<string, number[]> = {};
      for (const [g, list] of Object.entries(pids1)) {
        const known = new Set(pids0[g] ?? []);
        extra[g] = list.filter((p) => !known.has(p));
      }
      const added = snapshot(extra);
      return between(a, merge(b0, added), hooks);
    },
  };
}

/** b's snapshot with the threads of processes first listed after it (read a moment later) added per group. */
function merge(b: Snapshot, added: Snapshot): Snapshot {
  const groups = new Map(b.groups);
  for (const [g, x] of added.groups) {
    const base = groups.get(g);
    groups.set(g, {
      processes: (base?.processes ?? 0) + x.processes,
      threads: new Map([...(base?.threads ?? []), ...x.threads]),
    });
  }
  return { ...b, groups };
}
