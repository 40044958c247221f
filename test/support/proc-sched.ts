/**
 * Readers of the kernel's scheduler accounting: the machine's CPU time by state (/proc/stat), each thread's on-CPU
 * and run-queue wait time (/proc/<pid>/task/<tid>/schedstat) and pressure stall totals (/proc/pressure/*). The
 * benchmark attributes a step's time with them (bench/lib/cpu-contention.ts); the parsers live here, beside their
 * spec, because the unit-test roots do not include bench/.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The machine's CPU time by state since boot, in clock ticks summed over all cores (/proc/stat `cpu` line). */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  /** Time the hypervisor ran something else while this VM's vCPU wanted to run. */
  readonly steal: number;
}

/** The aggregate `cpu` line of /proc/stat; null when it is missing or short. */
export function parseCpuLine(procStat: string): CpuTimes | null {
  const line = procStat.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 8 || v.slice(0, 8).some((n) => !Number.isFinite(n))) return null;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = v as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { user, nice, system, idle, iowait, irq, softirq, steal };
}

/** Shares of all cores' time between two readings, in %. busy = user + nice + system + irq + softirq (not steal). */
export interface CpuShares {
  readonly busyPct: number;
  readonly stealPct: number;
  readonly iowaitPct: number;
}

const pct = (part: number, whole: number): number => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0);

/** Busy ticks (user + nice + system + irq + softirq) of all cores between two readings. */
export function busyTicks(a: CpuTimes, b: CpuTimes): number {
  const d = (k: keyof CpuTimes): number => Math.max(0, b[k] - a[k]);
  return d('user') + d('nice') + d('system') + d('irq') + d('softirq');
}

export function cpuShares(a: CpuTimes, b: CpuTimes): CpuShares {
  const d = (k: keyof CpuTimes): number => Math.max(0, b[k] - a[k]);
  // guest time is already inside user (the kernel counts it twice): the first eight fields are the whole.
  const total = d('user') + d('nice') + d('system') + d('idle') + d('iowait') + d('irq') + d('softirq') + d('steal');
  return {
    busyPct: pct(busyTicks(a, b), total),
    stealPct: pct(d('steal'), total),
    iowaitPct: pct(d('iowait'), total),
  };
}

/** One thread's scheduler accounting since it started, in ns. */
export interface Sched {
  /** Time on a CPU (schedstat field 1). */
  readonly onCpuNs: number;
  /** Time runnable but waiting on a run queue (field 2): the cores were busy with others, or the vCPU was stolen. */
  readonly waitNs: number;
}

/** `/proc/<pid>/task/<tid>/schedstat`: "on-CPU ns, run-queue wait ns, timeslices"; null when malformed. */
export function parseSchedstat(text: string): Sched | null {
  const [on, wait] = text.trim().split(/\s+/).map(Number);
  return on !== undefined && wait !== undefined && Number.isFinite(on) && Number.isFinite(wait)
    ? { onCpuNs: on, waitNs: wait }
    : null;
}

/**
 * The `some … total=` of a /proc/pressure file: µs since boot in which at least one runnable (cpu) or
 * IO-waiting (io) task was stalled. null when there is no `some` line.
 */
export function parsePressureSome(text: string): number | null {
  const m = /^some\b.*\btotal=(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** Reads the machine's CPU times now; null when /proc/stat is unreadable. */
export function readCpuTimes(): CpuTimes | null {
  try {
    return parseCpuLine(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

/** The `some` total of /proc/pressure/<kind> in µs; null when the kernel has no PSI (file absent). */
export function readPressure(kind: 'cpu' | 'io'): number | null {
  try {
    return parsePressureSome(readFileSync(`/proc/pressure/${kind}`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Every thread of a process now, keyed `pid/tid`; empty when the process is gone. A thread that exits between the
 * listing and its read is skipped (it is then simply absent from this reading).
 */
export function readProcessSched(pid: number): Map<string, Sched> {
  const out = new Map<string, Sched>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const s = parseSchedstat(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8'));
      if (s) out.set(`${pid}/${tid}`, s);
    } catch {
      // Exited after the listing.
    }
  }
  return out;
}

/**
 * What a Node.js thread is for, from its name (/proc/<pid>/task/<tid>/comm, which Node names since v22):
 * `main` the JavaScript thread, `v8` V8's platform workers (concurrent and parallel GC, background JIT compilers)
 * and its delayed-task scheduler, `libuv` the thread pool (fs, dns.lookup, some crypto and zlib); anything else
 * (a Postgres backend, the inspector's signal thread) is `other`.
 */
export type ThreadKind = 'main' | 'v8' | 'libuv' | 'other';

export function threadKind(comm: string): ThreadKind {
  const name = comm.trim();
  if (name === 'MainThread') return 'main';
  if (name === 'V8Worker' || name.startsWith('DelayedTaskSch')) return 'v8';
  if (name === 'libuv-worker') return 'libuv';
  return 'other';
}

/** The kind of thread `pid/tid` is (its name read now); `other` when it is gone. */
export function readThreadKind(key: string): ThreadKind {
  const [pid, tid] = key.split('/');
  try {
    return threadKind(readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8'));
  } catch {
    return 'other';
  }
}

/** What a group of threads did between two readings. */
export interface SchedDelta {
  readonly onCpuNs: number;
  readonly waitNs: number;
  /** Threads at the end not seen at the start: counted from 0 (all they did since they started). */
  readonly appeared: number;
  /** Threads seen at the start and gone by the end: what they did since the start is lost. */
  readonly vanished: number;
}

/**
 * The growth of each thread's counters summed over a group. A thread whose counters went down (its id reused by a
 * new thread) counts as appeared, from 0.
 */
export function schedDelta(start: ReadonlyMap<string, Sched>, end: ReadonlyMap<string, Sched>): SchedDelta {
  let onCpuNs = 0;
  let waitNs = 0;
  let appeared = 0;
  let vanished = 0;
  for (const [key, e] of end) {
    const s = start.get(key);
    const same = s !== undefined && e.onCpuNs >= s.onCpuNs && e.waitNs >= s.waitNs;
    if (!same) appeared++;
    onCpuNs += e.onCpuNs - (same ? s.onCpuNs : 0);
    waitNs += e.waitNs - (same ? s.waitNs : 0);
  }
  for (const key of start.keys()) if (!end.has(key)) vanished++;
  return { onCpuNs, waitNs, appeared, vanished };
}
