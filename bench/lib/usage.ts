import { readFileSync } from 'node:fs';
import { clockTicksPerSecond } from '@app/testing/pg-backend-cpu';

/** What one process used over a step: peak RSS (sampled, and the kernel's high-water mark) and CPU time. */
export interface ProcUsage {
  peakRssMb: number;
  hwmMb: number;
  /** user + system CPU seconds over the step. */
  cpuS?: number;
  /** cpuS as a share of one core over the step's wall time. */
  cpuPct?: number;
}

/** Current and peak resident set size of a process, in MB, from /proc. */
export function rssOf(pid: number | undefined): { rssMb: number; hwmMb: number } | null {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 'NaN');
    return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, hwmMb: Math.round(kb('VmHWM') / 102.4) / 10 };
  } catch {
    return null;
  }
}

/** user + system CPU seconds a process has used so far (/proc/<pid>/stat fields 14 and 15). */
export function cpuSecondsOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond();
  } catch {
    return null;
  }
}

/** user + system CPU seconds of the process's main (JavaScript) thread alone: no GC helpers, libuv pool or JIT. */
export function mainThreadCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond();
}

/**
 * Samples RSS of some processes every `everyMs`; `stop` returns per process the peak seen, the kernel's
 * high-water mark and the CPU seconds (and % of one core) used between start and stop.
 */
export function sampleRss(
  pids: Record<string, number | undefined>,
  everyMs = 500,
): {
  stop(): Record<string, ProcUsage>;
  series: Array<{ t: number; rss: Record<string, number> }>;
} {
  const peaks: Record<string, ProcUsage> = {};
  const series: Array<{ t: number; rss: Record<string, number> }> = [];
  const t0 = Date.now();
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)]));
  const tick = (): void => {
    const rss: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      const r = rssOf(pid);
      if (!r) continue;
      rss[name] = r.rssMb;
      const p = (peaks[name] ??= { peakRssMb: 0, hwmMb: 0 });
      p.peakRssMb = Math.max(p.peakRssMb, r.rssMb);
      p.hwmMb = Math.max(p.hwmMb, r.hwmMb);
    }
    series.push({ t: Date.now() - t0, rss });
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    series,
    stop() {
      clearInterval(timer);
      tick();
      const wallS = (Date.now() - t0) / 1000;
      for (const [name, pid] of Object.entries(pids)) {
        const before = cpu0[name];
        const after = cpuSecondsOf(pid);
        const p = peaks[name];
        if (!p || before === null || before === undefined || after === null) continue;
        p.cpuS = Math.round((after - before) * 100) / 100;
        p.cpuPct = wallS > 0 ? Math.round(((after - before) / wallS) * 1000) / 10 : 0;
      }
      return peaks;
    },
  };
}

/** Least-squares slope of y over x (per unit of x); 0 with fewer than two points. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  const mx = xs.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const my = ys.slice(0, n).reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
