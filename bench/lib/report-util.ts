/** Formatting helpers of the Markdown report. */
import type { PgCpu } from '@app/testing/pg-backend-cpu';
import type { CpuContention } from './cpu-contention';
import type { StepRecord } from './results';

export const f = (v: number | null | undefined, d = 1): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d).replace(/\.0+$/, '');

export function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function verdict(value: number | undefined, limit: number, unit: string, lowerIsBetter = true): string {
  if (value === undefined || !Number.isFinite(value)) return 'not measured';
  const ok = lowerIsBetter ? value <= limit : value >= limit;
  if (ok) return 'met';
  const by = lowerIsBetter ? value - limit : limit - value;
  return `MISSED by ${f(by)} ${unit} (${f((by / limit) * 100, 0)} %)`;
}

const SHORT: Record<string, string> = { gateway: 'gw', 'cds-hooks': 'cds', 'inference-proxy': 'proxy' };

/** The SUT's processes in a step: `sut 310 MB 95 %` or `gw 120 MB 30 % · cds … · proxy …`. */
export function procUsage(s: StepRecord): string {
  return Object.entries(s.rssMb)
    .filter(([k]) => k !== 'double' && k !== 'load')
    .map(([k, u]) => `${SHORT[k] ?? k} ${f(u.peakRssMb, 0)} MB${u.cpuPct !== undefined ? ` ${f(u.cpuPct, 0)} %` : ''}`)
    .join(' · ');
}

/**
 * Each process's runtime over a step: `sut 21 ms · 7 full GCs 66 ms; load 6 ms` (event-loop delay max; full
 * collections and their total pause, when there were any; the load generator's own loop delay), `–` when unknown.
 */
export function runtimeCell(s: StepRecord): string {
  const generator = s.generator ? [`load ${f(s.generator.loopMaxMs, 0)} ms`] : [];
  if (!s.runtime || Object.keys(s.runtime).length === 0) return generator[0] ?? '–';
  const processes = Object.entries(s.runtime).map(([k, r]) => {
    const major = r.gc.major;
    return `${SHORT[k] ?? k} ${f(r.loopMaxMs, 0)} ms${major ? ` · ${major.count} full GC${major.count === 1 ? '' : 's'} ${f(major.totalMs, 0)} ms` : ''}`;
  });
  return [...processes, ...generator].join('; ');
}

/** Postgres backend CPU ms per hook by app: `cds 4.3 · proxy 1.3 · gw 0.3` (`?` an unreadable app, `–` none). */
export function pgCpuText(c: PgCpu | undefined): string {
  if (!c?.msPerHook) return '–';
  const apps = Object.entries(c.msPerHook);
  if (apps.length === 0) return '–';
  return apps
    .map(([app, ms]) => {
      const name = app.replace(/^meditron-/, '');
      return `${SHORT[name] ?? name} ${ms === null ? '?' : f(ms, 2)}`;
    })
    .join(' · ');
}

/** Short names of the process groups of cpuContention and the tail timeline. */
export const GROUP_SHORT: Record<string, string> = { ...SHORT, postgres: 'pg', 'pg-other': 'pg-bg', harness: 'bench' };

/**
 * `busy 78 % steal 5 %; sut 3.1/0.80 · pg 1.2/0.31 · double 0.4/0.05 · load 0.9/0.20 · pg-bg 0.1/0.01 ms/hook; PSI
 * cpu 40 % io 1 %` (on-CPU / run-queue wait per hook answered), `–` when unknown.
 */
export function contentionText(c: CpuContention | undefined): string {
  if (!c) return '–';
  const m = c.machine ? `busy ${c.machine.busyPct} % steal ${c.machine.stealPct} %` : 'machine ?';
  const io = c.machine && c.machine.iowaitPct > 0 ? ` iowait ${c.machine.iowaitPct} %` : '';
  const groups = Object.entries(c.groups)
    .filter(([, g]) => g.processes > 0)
    .map(([k, g]) => `${GROUP_SHORT[k] ?? k} ${f(g.onCpuMsPerHook, 2)}/${f(g.waitMsPerHook, 2)}`)
    .join(' · ');
  const psi =
    c.psi.cpuSomePct === null && c.psi.ioSomePct === null
      ? ''
      : `; PSI cpu ${c.psi.cpuSomePct ?? '?'} % io ${c.psi.ioSomePct ?? '?'} %`;
  const other = c.otherOnCpuMs === null ? '' : `; other processes ${f(c.otherOnCpuMs / 1000, 2)} s on CPU`;
  return `${m}${io}; ${groups} ms/hook${psi}${other}`;
}

/** Peak RSS of the SUT's processes in a step, by process. */
export function sutPeaks(s: StepRecord): Record<string, number> {
  return Object.fromEntries(
    Object.entries(s.rssMb)
      .filter(([k]) => k !== 'double' && k !== 'load')
      .map(([k, u]) => [k, u.peakRssMb]),
  );
}
