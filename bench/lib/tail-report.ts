/** The tail attribution of a step (bench/lib/tail-episodes.ts) as a Markdown table and as a log line. */
import { f, GROUP_SHORT, table } from './report-util';
import { NON_SUT_GROUPS } from './step-groups';
import type { TailAttribution, WindowFigures } from './tail-episodes';

/** `sut 12.3 · pg 4 · load 1.2`, largest first. */
function byGroup(v: Readonly<Record<string, number>>): string {
  const parts = Object.entries(v)
    .sort(([, a], [, b]) => b - a)
    .map(([g, x]) => `${GROUP_SHORT[g] ?? g} ${f(x)}`);
  return parts.length > 0 ? parts.join(' · ') : '–';
}

/** The top four backend states, mean backends per sample: `on CPU 1.2 · Lock:transactionid 0.8`. */
function pgWaitsText(w: WindowFigures): string {
  if (w.pgSamples === 0) return '–';
  const top = Object.entries(w.pgWaits).slice(0, 4);
  return top.length > 0 ? top.map(([k, n]) => `${k} ${f(n, 2)}`).join(' · ') : 'none active';
}

/** The Node processes' main threads only: a Postgres backend is one thread, its main is the whole. */
function nodeMains(v: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(v).filter(([g]) => g !== 'postgres' && g !== 'pg-other'));
}

/** The system under test's threads by kind: `main 52 · v8 31 · libuv 4` (deployed: per app). */
function sutThreads(w: WindowFigures): string {
  const parts = Object.entries(w.onCpuByKindPer100Ms)
    .filter(([g]) => !NON_SUT_GROUPS.includes(g))
    .map(
      ([g, k]) =>
        `${GROUP_SHORT[g] ?? g}: ${(['main', 'v8', 'libuv'] as const).map((n) => `${n} ${f(k[n] ?? 0)}`).join(' · ')}`,
    );
  return parts.length > 0 ? parts.join('; ') : '–';
}

function row(label: string, what: string, w: WindowFigures): string[] {
  return [
    label,
    what,
    f(w.busyPct),
    f(w.stealPct),
    `${f(w.psiCpuPct)} / ${f(w.psiIoPct)}`,
    byGroup(w.waitPer100Ms),
    byGroup(nodeMains(w.mainWaitPer100Ms)),
    byGroup(w.onCpuPer100Ms),
    sutThreads(w),
    `${pgWaitsText(w)} (${w.pgSamples})`,
  ];
}

export function tailTable(t: TailAttribution): string {
  const rows = t.episodes.map((e, i) =>
    row(
      `episode ${i + 1}`,
      `${f(e.fromMs / 1000, 2)}–${f(e.toMs / 1000, 2)} s (${f(e.toMs - e.fromMs, 0)} ms): ${e.answers} > p99, max ${f(e.maxMs, 0)} ms`,
      e.figures,
    ),
  );
  rows.push(row('rest of step', `${f(t.rest.sampledMs / 1000)} s sampled`, t.rest));
  return table(
    [
      'window',
      'when, answers over p99',
      'busy %',
      'steal %',
      'PSI cpu / io %',
      'run-queue wait ms per 100 ms by group',
      'of it, Node main threads',
      'on-CPU ms per 100 ms by group',
      'of the SUT, by thread: JavaScript (main), GC / JIT (v8), libuv pool',
      'step database backends not idle, mean per sample (samples)',
    ],
    rows,
  );
}

/** For the step's log line: `tail (p99 42 ms) ep1 3.21 s 180 ms ×4: wait sut 30 · pg 12; steal 8 % (rest: …)`. */
export function tailText(t: TailAttribution): string {
  const brief = (w: WindowFigures): string =>
    `wait/100 ms ${byGroup(w.waitPer100Ms)}; busy ${f(w.busyPct)} % steal ${f(w.stealPct)} %`;
  const eps = t.episodes.map(
    (e, i) => `ep${i + 1} ${f(e.fromMs / 1000, 2)} s ${f(e.toMs - e.fromMs, 0)} ms ×${e.answers}: ${brief(e.figures)}`,
  );
  return `tail (p99 ${f(t.p99Ms)} ms) ${eps.join(' | ')} | rest: ${brief(t.rest)}`;
}
