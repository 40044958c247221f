/**
 * A step's tail episodes and what the machine did during them: the answers slower than the step's p99, grouped
 * where their [due, due + latency] windows overlap (one stall delays every answer in flight across it), each
 * episode's window compared with the rest of the step from the 20 ms timeline (bench/lib/stall-timeline.ts).
 */
import { ticksToMs } from './cpu-contention';
import type { Interval } from './stall-timeline';
import type { StepAnswers } from './types';

/** What the machine did over a set of intervals. */
export interface WindowFigures {
  /** Wall time covered by samples, ms. */
  readonly sampledMs: number;
  /** Per group, ms per 100 ms of wall time. */
  readonly waitPer100Ms: Readonly<Record<string, number>>;
  /** Per group, its processes' main threads alone (a Node process's JavaScript thread). */
  readonly mainWaitPer100Ms: Readonly<Record<string, number>>;
  /** Per Node group, on-CPU ms per 100 ms by thread kind (main, v8, libuv; `other` threads left out). */
  readonly onCpuByKindPer100Ms: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Per group, and `other`: the machine's busy time outside every group (other sessions, kernel, interrupts). */
  readonly onCpuPer100Ms: Readonly<Record<string, number>>;
  /** Shares of all cores' time, %. */
  readonly busyPct: number | null;
  readonly stealPct: number | null;
  /** PSI `some` as % of the wall time. */
  readonly psiCpuPct: number | null;
  readonly psiIoPct: number | null;
  /** The step database's non-idle backends per sample, by what they were doing (mean count per sample). */
  readonly pgWaits: Readonly<Record<string, number>>;
  /** Samples with a Postgres reading. */
  readonly pgSamples: number;
}

export interface Episode {
  /** Window, ms after the step's start. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Answers over the p99 in it, and the slowest. */
  readonly answers: number;
  readonly maxMs: number;
  readonly figures: WindowFigures;
}

export interface TailAttribution {
  readonly p99Ms: number;
  readonly episodes: readonly Episode[];
  /** The step's intervals outside every episode. */
  readonly rest: WindowFigures;
}

/** Answers over p99 merged into windows (ms after the step's start) where they overlap. */
export function tailWindows(
  answers: StepAnswers,
  p99Ms: number,
): Array<{ fromMs: number; toMs: number; answers: number; maxMs: number }> {
  const slow = answers.latencyMs
    .map((ms, i) => ({ from: answers.dueMs[i]!, to: answers.dueMs[i]! + ms, ms }))
    .filter((a) => a.ms > p99Ms)
    .sort((a, b) => a.from - b.from);
  const out: Array<{ fromMs: number; toMs: number; answers: number; maxMs: number }> = [];
  for (const a of slow) {
    const last = out.at(-1);
    if (last && a.from <= last.toMs) {
      last.toMs = Math.max(last.toMs, a.to);
      last.answers++;
      last.maxMs = Math.max(last.maxMs, a.ms);
    } else out.push({ fromMs: a.from, toMs: a.to, answers: 1, maxMs: a.ms });
  }
  return out;
}

const r1 = (v: number): number => Math.round(v * 10) / 10;

/** Sums a set of intervals into per-100-ms and % figures. */
export function figuresOf(intervals: readonly Interval[]): WindowFigures {
  let wall = 0;
  const wait: Record<string, number> = {};
  const mainWait: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  const byKind: Record<string, Record<string, number>> = {};
  let busy = 0;
  let other = 0;
  let steal = 0;
  let total = 0;
  let psiCpu: number | null = 0;
  let psiIo: number | null = 0;
  const waits: Record<string, number> = {};
  let pgSamples = 0;
  for (const iv of intervals) {
    wall += iv.toMs - iv.fromMs;
    for (const [g, x] of Object.entries(iv.groups)) {
      wait[g] = (wait[g] ?? 0) + x.waitNs / 1e6;
      mainWait[g] = (mainWait[g] ?? 0) + x.mainWaitNs / 1e6;
      cpu[g] = (cpu[g] ?? 0) + x.onCpuNs / 1e6;
      for (const [kind, ns] of Object.entries(x.onCpuNsByKind ?? {})) {
        if (kind === 'other') continue;
        const k = (byKind[g] ??= {});
        k[kind] = (k[kind] ?? 0) + ns / 1e6;
      }
    }
    if (iv.ticks) {
      // Tick-grained (10 ms a core): only sums over many intervals mean much, so it is clamped at the end.
      other += ticksToMs(iv.ticks.busy) - Object.values(iv.groups).reduce((a, x) => a + x.onCpuNs / 1e6, 0);
      busy += iv.ticks.busy;
      steal += iv.ticks.steal;
      total += iv.ticks.total;
    }
    psiCpu = psiCpu === null || iv.psiCpuUs === null ? null : psiCpu + iv.psiCpuUs;
    psiIo = psiIo === null || iv.psiIoUs === null ? null : psiIo + iv.psiIoUs;
    if (iv.pgWaits) {
      pgSamples++;
      for (const [k, n] of Object.entries(iv.pgWaits)) waits[k] = (waits[k] ?? 0) + n;
    }
  }
  const per100 = (ms: number): number => (wall > 0 ? r1((ms / wall) * 100) : 0);
  const ofWall = (us: number | null): number | null =>
    us === null || wall <= 0 || intervals.length === 0 ? null : r1((us / 1000 / wall) * 100);
  return {
    sampledMs: Math.round(wall),
    waitPer100Ms: Object.fromEntries(Object.entries(wait).map(([g, ms]) => [g, per100(ms)])),
    mainWaitPer100Ms: Object.fromEntries(Object.entries(mainWait).map(([g, ms]) => [g, per100(ms)])),
    onCpuByKindPer100Ms: Object.fromEntries(
      Object.entries(byKind).map(([g, k]) => [
        g,
        Object.fromEntries(Object.entries(k).map(([n, ms]) => [n, per100(ms)])),
      ]),
    ),
    onCpuPer100Ms: {
      ...Object.fromEntries(Object.entries(cpu).map(([g, ms]) => [g, per100(ms)])),
      ...(total > 0 ? { other: per100(Math.max(0, other)) } : {}),
    },
    busyPct: total > 0 ? r1((busy / total) * 100) : null,
    stealPct: total > 0 ? r1((steal / total) * 100) : null,
    psiCpuPct: ofWall(psiCpu),
    psiIoPct: ofWall(psiIo),
    pgWaits: Object.fromEntries(
      Object.entries(waits)
        .sort(([, a], [, b]) => b - a)
        .map(([k, n]) => [k, pgSamples > 0 ? Math.round((n / pgSamples) * 100) / 100 : 0]),
    ),
    pgSamples,
  };
}

/**
 * The tail episodes of a step and the rest of it. An interval belongs to an episode when it overlaps the episode's
 * window (a 20 ms sample straddling the edge counts whole: the windows are tens to hundreds of ms); "rest" is every
 * interval within the step's answers' span that overlaps no episode.
 */
export function attributeTail(answers: StepAnswers, p99Ms: number, intervals: readonly Interval[]): TailAttribution {
  const start = answers.startEpochMs;
  const overlaps = (iv: Interval, from: number, to: number): boolean =>
    iv.toMs > start + from && iv.fromMs < start + to;
  const windows = tailWindows(answers, p99Ms);
  const episodes = windows.map((w) => ({
    ...w,
    figures: figuresOf(intervals.filter((iv) => overlaps(iv, w.fromMs, w.toMs))),
  }));
  const end = Math.max(0, ...answers.latencyMs.map((ms, i) => answers.dueMs[i]! + ms));
  const rest = intervals.filter((iv) => overlaps(iv, 0, end) && !windows.some((w) => overlaps(iv, w.fromMs, w.toMs)));
  return { p99Ms, episodes, rest: figuresOf(rest) };
}
