/** Writes results.json, results.md and the latency-vs-load plot from the run's results. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { latencySvg, renderPng, type Series } from './plot';
import { BENCH_DIR } from './procs';
import { writeReport } from './report';
import { results, saveResults, type BenchResults } from './results';
import { errorText, round } from './stats';
import { isSustained, knee } from './steps';

/** `--report-only`: reload results.json (overheads and the sustained flag recomputed). */
export function reloadResults(): void {
  const saved = JSON.parse(readFileSync(join(BENCH_DIR, 'results.json'), 'utf8')) as BenchResults;
  for (const part of saved.parts) {
    part.steps = part.steps.map((s) => {
      const modelMs = s.modelProfile === 'zero' ? 0 : s.modelMs;
      const over = (v: number): number => round(Math.max(0, v - modelMs));
      return {
        ...s,
        modelMs,
        overheadMs: { p50: over(s.latencyMs.p50), p95: over(s.latencyMs.p95), p99: over(s.latencyMs.p99) },
        sustained: isSustained(s, modelMs),
      };
    });
  }
  Object.assign(results, saved);
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#e377c2'];

export async function render(): Promise<void> {
  const bySeries = new Map<string, Array<readonly [number, number, number]>>();
  const steps = results.parts.flatMap((p) => p.steps);
  for (const s of steps) {
    if (
      s.mode !== 'open' ||
      s.offeredRps === null ||
      s.hook !== 'patient-view' ||
      /^(profiled|soak|overload|recovery|cache)/.test(s.series) ||
      // The target tried again after a ramp: one rate, in the table and the targets, not a curve.
      / again$/.test(s.series)
    )
      continue;
    const list = bySeries.get(s.series) ?? [];
    list.push([s.offeredRps, s.latencyMs.p50, s.latencyMs.p99]);
    bySeries.set(s.series, list);
  }
  const series: Series[] = [...bySeries.entries()].map(([label, points], i) => {
    const k = knee(steps, label);
    return {
      label: k > 0 ? `${label} (knee ${k}/s)` : label,
      points,
      color: PALETTE[i % PALETTE.length]!,
      ...(k > 0 ? { knee: k } : {}),
    };
  });
  try {
    const svg = latencySvg('Meditron CDS: patient-view hook latency through the gateway vs offered load', series);
    const r = await renderPng(svg, join(BENCH_DIR, 'latency-vs-load.svg'), join(BENCH_DIR, 'latency-vs-load.png'));
    results.plot = { png: 'bench/latency-vs-load.png', svg: 'bench/latency-vs-load.svg', note: r.note };
  } catch (e) {
    results.plot = { png: '', svg: '', note: `plot failed: ${errorText(e)}` };
  }
  saveResults();
  writeReport(results, join(BENCH_DIR, 'results.md'));
}
