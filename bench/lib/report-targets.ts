/** The targets table and issue 17's before/after table of the report. */
import { CACHE_HIT, SINGLE_REAL, SINGLE_ZERO, SINGLE_ZERO_AGAIN } from '../parts/single-postgres';
import { seriesName } from '../parts/kafka';
import { PGLITE_SERIES } from '../parts/pglite';
import type { SoakTrend } from './memory-trend';
import type { BenchResults, StepRecord } from './results';
import { TARGET_RPS } from './options';
import { f, sutPeaks, verdict } from './report-util';
import { knee, sustainedAboveKnee } from './steps';
import type { LoadResult } from './types';

export interface TargetRow {
  target: string;
  landed?: string;
  measured: string;
  verdict: string;
}

interface FacadeRow {
  target: string;
  connections: number;
  overheadP50: number | null;
  overheadP99: number | null;
  result: LoadResult;
}

const DEPLOYED_ZERO = seriesName('deployed', 'zero');

function find(steps: StepRecord[], series: string, rate: number, hook = 'patient-view'): StepRecord | undefined {
  return steps.find((s) => s.series === series && s.hook === hook && s.mode === 'open' && s.offeredRps === rate);
}

const ms = (s: StepRecord | undefined, k: 'p50' | 'p99'): string => (s ? `${f(s.overheadMs[k])} ms` : '–');

function facadeRows(r: BenchResults): TargetRow[] {
  const facade = (r.parts.find((p) => p.name === 'hooks-single-process-postgres')?.extra.facade ?? []) as FacadeRow[];
  return [...new Set(facade.map((x) => x.connections))].map((c) => {
    const fac = facade.find((x) => x.connections === c && x.target.includes('facade'));
    const pk = facade.find((x) => x.connections === c && x.target.includes('portkey'));
    const ok = (a: number | null | undefined, b: number | null | undefined, what: string): string =>
      a === null || a === undefined || b === null || b === undefined
        ? `${what} not measured`
        : a <= b
          ? `${what} met`
          : `${what} MISSED by ${f(a - b)} ms`;
    return {
      target: `Facade overhead ≤ Portkey's at c=${c} (p50 / p99)`,
      landed: 'p50 better; p99 0.8–2 ms worse',
      measured: `facade ${f(fac?.overheadP50)} / ${f(fac?.overheadP99)} ms; Portkey ${f(pk?.overheadP50)} / ${f(pk?.overheadP99)} ms`,
      verdict: `${ok(fac?.overheadP50, pk?.overheadP50, 'p50')}; ${ok(fac?.overheadP99, pk?.overheadP99, 'p99')}`,
    };
  });
}

function memoryRow(steps: StepRecord[]): TargetRow {
  const dep = find(steps, DEPLOYED_ZERO, 50);
  const single = find(steps, SINGLE_ZERO, 50);
  const peaks = dep ? sutPeaks(dep) : {};
  const worst = Math.max(0, ...Object.values(peaks));
  return {
    target: 'RSS ≤ 200 MB per app under 50 hooks/s (deployed: one process per app)',
    landed:
      'one process with all three apps: 302 MB at the start of the run, 745 MB at its end; per app never measured',
    measured:
      `${
        dep
          ? Object.entries(peaks)
              .map(([k, v]) => `${k} ${f(v, 0)} MB`)
              .join(', ')
          : 'deployed not measured'
      }` + `; single process (all three) ${single ? `${f(sutPeaks(single).sut, 0)} MB` : '–'}`,
    verdict: dep ? verdict(worst, 200, 'MB') : 'not measured',
  };
}

function soakRow(r: BenchResults): TargetRow {
  const mem = r.parts.find((p) => p.name === 'soak')?.extra.memory as
    | {
        mode: string;
        minutes: number;
        perApp: Record<string, Partial<SoakTrend> & { slopeMbPerMin: number; growing: boolean }>;
      }
    | undefined;
  return {
    target: 'Ten-minute soak per app at 50 hooks/s: flat memory (slope)',
    landed: 'never run',
    measured: mem
      ? `${mem.mode}, ${mem.minutes} min: ${Object.entries(mem.perApp)
          .map(
            ([k, v]) =>
              `${k} ${f(v.slopeMbPerMin, 2)} MB/min` +
              (v.lastHalfSlopeMbPerMin !== undefined ? ` (second half ${f(v.lastHalfSlopeMbPerMin, 2)})` : ''),
          )
          .join(', ')}`
      : 'not run (`--soak`)',
    verdict: mem
      ? Object.values(mem.perApp).some((v) => v.growing)
        ? 'GROWS (second half above the flag)'
        : 'flat (every second-half slope within the flag)'
      : 'not measured',
  };
}

function overloadRow(r: BenchResults): TargetRow {
  const o = r.parts.find((p) => p.name === 'overload')?.extra.overload as
    | {
        offeredRps: number;
        requests: number;
        withinBudget: number | null;
        budgetMs: number;
        cards: number;
        emptyCards: number;
        status5xx: number;
        timeouts: number;
        shed: number | null;
        recovery: { p99: number; overheadP99: number; errors: number };
      }
    | undefined;
  return {
    target: 'Overload (2× sustainable, realistic model): every hook answered within budget, no 5xx, recovers',
    landed: 'realistic model at 150 hooks/s: 215 errors (504) of 1,504, achieved 94/s',
    measured: o
      ? `${o.offeredRps}/s: ${o.withinBudget ?? '?'} of ${o.requests} within ${o.budgetMs} ms; cards ${o.cards}, ` +
        `{"cards": []} ${o.emptyCards}; 5xx ${o.status5xx}, timeouts ${o.timeouts}; shed ${o.shed ?? 'no shed metric'}; ` +
        `recovery p99 ${f(o.recovery.p99)} ms (overhead ${f(o.recovery.overheadP99)} ms), errors ${o.recovery.errors}`
      : '–',
    verdict: o
      ? o.status5xx === 0 && o.timeouts === 0 && o.withinBudget === o.requests && o.recovery.errors === 0
        ? 'met'
        : 'MISSED'
      : 'not measured',
  };
}

/**
 * ≥ 200 hooks/s sustained: the ramp's knee, and the target rate tried again after the ramp. Met only when the knee
 * reaches the target and every further try held too: one ramp step is one draw of a tail that varies run to run.
 */
function sustainedRow(steps: StepRecord[], singleKnee: number | undefined, depKnee: number | undefined): TargetRow {
  const above = singleKnee === undefined ? [] : sustainedAboveKnee(steps, SINGLE_ZERO);
  const again = steps.filter((s) => s.series === SINGLE_ZERO_AGAIN);
  const held = again.filter((s) => s.sustained).length;
  const kneeVerdict = verdict(singleKnee, TARGET_RPS, 'hooks/s', false);
  return {
    target: `≥ ${TARGET_RPS} hooks/s sustained (open loop, model 0 ms, 0 errors, ≥ 95 % achieved, p99 ≤ 100 ms), single process`,
    landed: '150 hooks/s (old criterion: ≥ 90 % achieved, no latency bound; re-run 149/s at p50 518 ms)',
    measured:
      `knee ${singleKnee ?? '–'} hooks/s` +
      (above.length > 0
        ? ` (every step up to it sustained; sustained again at ${above.join(', ')} hooks/s after a miss)`
        : '') +
      (again.length > 0
        ? `; ${TARGET_RPS}/s again after the ramp: sustained ${held} of ${again.length} (p99 ${again.map((s) => f(s.latencyMs.p99)).join(', ')} ms)`
        : '') +
      ` (deployed knee ${depKnee ?? '–'} hooks/s)`,
    verdict:
      kneeVerdict !== 'met' || held === again.length
        ? kneeVerdict
        : `MISSED (knee met; ${again.length - held} of ${again.length} more tries at ${TARGET_RPS}/s not sustained)`,
  };
}

/** Issue 17's targets: the issue's "landed" figures beside this run's. */
export function issue17Rows(r: BenchResults): TargetRow[] {
  const steps = r.parts.flatMap((p) => p.steps);
  const at50 = find(steps, SINGLE_ZERO, 50);
  const dep50 = find(steps, DEPLOYED_ZERO, 50);
  const cache = find(steps, CACHE_HIT, 50);
  const pg50 = find(steps, PGLITE_SERIES, 50);
  const k50 = find(steps, seriesName('single', 'zero'), 50);
  const k150 = find(steps, seriesName('single', 'zero'), 150);
  const d150 = find(steps, DEPLOYED_ZERO, 150);
  const singleKnee = steps.some((s) => s.series === SINGLE_ZERO) ? knee(steps, SINGLE_ZERO) : undefined;
  const depKnee = steps.some((s) => s.series === DEPLOYED_ZERO) ? knee(steps, DEPLOYED_ZERO) : undefined;
  return [
    {
      target: 'Overhead at 50 hooks/s, model 0 ms, single process: p50 ≤ 10 ms',
      landed: '13–16 ms',
      measured: `${ms(at50, 'p50')} (deployed ${ms(dep50, 'p50')})`,
      verdict: verdict(at50?.overheadMs.p50, 10, 'ms'),
    },
    {
      target: 'Same: p99 ≤ 40 ms',
      landed: '35–37 ms',
      measured: `${ms(at50, 'p99')} (deployed ${ms(dep50, 'p99')})`,
      verdict: verdict(at50?.overheadMs.p99, 40, 'ms'),
    },
    sustainedRow(steps, singleKnee, depKnee),
    {
      target: 'Cache hit (repeat path) p99 ≤ 15 ms at 50 hooks/s, after a cool-down',
      landed: '215 ms (measured right after an overload step)',
      measured: cache ? `${f(cache.latencyMs.p99)} ms (p50 ${f(cache.latencyMs.p50)})` : '–',
      verdict: verdict(cache?.latencyMs.p99, 15, 'ms'),
    },
    memoryRow(steps),
    soakRow(r),
    overloadRow(r),
    {
      target: 'Embedded default (PGlite) at 50 hooks/s: 0 errors',
      landed: '9–12 of ~490 answers were 500s, p99 up to 3.9 s',
      measured: pg50 ? `${pg50.errors} errors of ${pg50.requests}, p99 ${f(pg50.latencyMs.p99)} ms` : '–',
      verdict: pg50 ? (pg50.errors === 0 ? 'met' : `MISSED (${pg50.errors} errors)`) : 'not measured',
    },
    {
      target: 'Kafka mode (mock cluster): p50 at 50/s; achieved at 150/s offered (one process / deployed)',
      landed: 'p50 33 ms at 50/s, 126/s achieved at 150/s offered',
      measured:
        `one process: p50 ${k50 ? f(k50.latencyMs.p50) : '–'} ms, ${k150 ? f(k150.throughputRps) : '–'}/s; ` +
        `deployed: p50 ${dep50 ? f(dep50.latencyMs.p50) : '–'} ms, ${d150 ? f(d150.throughputRps) : '–'}/s`,
      verdict: 'no target (reported)',
    },
    ...facadeRows(r),
  ];
}

/** The standing targets (issue 9), with issue 17's sustained criterion. */
export function targets(r: BenchResults): TargetRow[] {
  const steps = r.parts.flatMap((p) => p.steps);
  const at50real = find(steps, SINGLE_REAL, 50);
  const auditPart = r.parts.find((p) => p.name === 'audit-1m');
  const searches = (auditPart?.extra.searches ?? []) as Array<{ search: string; result: LoadResult }>;
  const rows = (auditPart?.extra.generation as { rows?: number } | undefined)?.rows;
  const worst = searches.length
    ? searches.reduce((a, b) => (b.result.latencyMs.p99 > a.result.latencyMs.p99 ? b : a))
    : undefined;
  return [
    {
      target: 'At 50 hooks/s with the realistic model (300 ms + 150 × 10 ms): overhead p50 ≤ 10 / p99 ≤ 40 ms',
      measured: at50real ? `${f(at50real.overheadMs.p50)} / ${f(at50real.overheadMs.p99)} ms` : '–',
      verdict: at50real
        ? `${verdict(at50real.overheadMs.p50, 10, 'ms')} / ${verdict(at50real.overheadMs.p99, 40, 'ms')}`
        : 'not measured',
    },
    {
      target: `Audit search p99 ≤ 200 ms on ${rows ?? '?'} rows (worst search and rate)`,
      measured: worst ? `${f(worst.result.latencyMs.p99)} ms (${worst.search})` : '–',
      verdict: verdict(worst?.result.latencyMs.p99, 200, 'ms'),
    },
  ];
}
