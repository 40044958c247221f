/**
 * Overload: 2× the sustainable rate (the single-process model-0 knee of this run, else BENCH_SUSTAINED_RPS) with
 * the realistic model, single process on Postgres. Reports answers within the hook budget, cards against
 * `{"cards": []}`, 5xx, the shed count (any `meditron_*shed*` counter) and the queue gauges' peaks over the measured
 * window (not the step's re-warm), then a short low-rate recovery step right after (no cool-down) and how long the
 * backlog took to drain.
 */
import { createTestDatabase, type TestDatabase } from '@app/testing/postgres';
import { calibrateDouble, doubleControl, realisticLatency, startDouble, type Double } from '../lib/double-control';
import { HOOK_BUDGET_MS, log, QUICK, STEP_S } from '../lib/options';
import { stopChild } from '../lib/procs';
import { results, type PartRecord } from '../lib/results';
import { hookStep, knee, warmUp, type StepWindow } from '../lib/steps';
import { IDLE_GAUGES } from '../lib/pipeline-gauges';
import { scrapeMetrics, shedCount, startSut, sutEnv, waitIdle, type Sut } from '../lib/sut-control';
import { SINGLE_ZERO } from './single-postgres';

export const OVERLOAD_SERIES = 'overload 2× sustained, model 300+10x150';
export const RECOVERY_SERIES = 'recovery 10/s right after';

function sustainableRate(): { rps: number; source: string } {
  const steps = results.parts.flatMap((p) => p.steps);
  const k = knee(steps, SINGLE_ZERO);
  if (k > 0) return { rps: k, source: `this run's ${SINGLE_ZERO} knee` };
  const env = Number(process.env.BENCH_SUSTAINED_RPS);
  if (env > 0) return { rps: env, source: 'BENCH_SUSTAINED_RPS' };
  return { rps: QUICK ? 50 : 200, source: 'no knee measured in this run: the issue 17 target' };
}

/**
 * The shed counter's growth and the queue / in-flight gauges' peaks (polled every second) over exactly the step's
 * measured window: the settle wait and the re-warm's second of load before it are not the overload.
 */
function overloadWindow(sut: Sut): StepWindow & {
  readonly shed: () => { total: number; metrics: string[] } | null;
  readonly peaks: Record<string, number>;
} {
  const peaks: Record<string, number> = {};
  let before: Awaited<ReturnType<typeof shedCount>> = null;
  let after: Awaited<ReturnType<typeof shedCount>> = null;
  let done = false;
  let poll: Promise<void> | undefined;
  return {
    peaks,
    shed: () => (before && after ? { total: after.total - before.total, metrics: after.metrics } : null),
    async open() {
      before = await shedCount(sut);
      poll = (async () => {
        while (!done) {
          const m = await scrapeMetrics(sut);
          for (const g of IDLE_GAUGES) if (m.has(g)) peaks[g] = Math.max(peaks[g] ?? 0, m.get(g)!);
          await new Promise((r) => setTimeout(r, 1000));
        }
      })();
    },
    async close() {
      done = true;
      await poll;
      after = await shedCount(sut);
    },
  };
}

export async function overload(p: PartRecord): Promise<void> {
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  try {
    db = await createTestDatabase('bench_overload');
    double = await startDouble();
    sut = await startSut(sutEnv({ DATABASE_URL: db.url, INFERENCE_BACKENDS: `vllm=${double.baseUrl}` }));
    await doubleControl(double, 'latency', realisticLatency);
    const real = await calibrateDouble(double, 'realistic');
    await warmUp(sut);
    const sustained = sustainableRate();
    const rate = sustained.rps * 2;
    const window = overloadWindow(sut);
    // At most the apps' HTTP_MAX_CONNECTIONS (2048): beyond the sockets the generator queues, and the wait counts.
    const connections = Math.min(2000, Math.ceil(rate * (HOOK_BUDGET_MS / 1000 + 1)));
    const step = await hookStep(p, sut, double, {
      series: OVERLOAD_SERIES,
      hook: 'patient-view',
      rate,
      connections,
      profile: 'realistic',
      modelMs: real.p50,
      budgetMs: HOOK_BUDGET_MS,
      window,
    });
    const shed = window.shed();
    const recovery = await hookStep(p, sut, double, {
      series: RECOVERY_SERIES,
      hook: 'patient-view',
      rate: 10,
      connections: 64,
      profile: 'realistic',
      modelMs: real.p50,
      durationS: Math.max(3, Math.round(STEP_S / 2)),
      budgetMs: HOOK_BUDGET_MS,
      noSettle: true,
    });
    const drained = await waitIdle(sut, { minMs: 0, maxMs: 120_000 });
    const status5xx = Object.entries(step.status)
      .filter(([code]) => code.startsWith('5'))
      .reduce((s, [, n]) => s + n, 0);
    const ok = step.status['200'] ?? 0;
    p.extra.overload = {
      sustainedRps: sustained.rps,
      sustainedSource: sustained.source,
      offeredRps: rate,
      budgetMs: HOOK_BUDGET_MS,
      requests: step.requests,
      withinBudget: step.withinBudget ?? null,
      cards: ok - step.emptyCards,
      emptyCards: step.emptyCards,
      status5xx,
      timeouts: step.timeouts,
      transportErrors: step.transportErrors,
      shed: shed?.total ?? null,
      shedMetrics: shed?.metrics ?? [],
      gaugePeaks: window.peaks,
      recovery: {
        p50: recovery.latencyMs.p50,
        p99: recovery.latencyMs.p99,
        overheadP99: recovery.overheadMs.p99,
        errors: recovery.errors,
        emptyCards: recovery.emptyCards,
        withinBudget: recovery.withinBudget ?? null,
        requests: recovery.requests,
      },
      drainAfterRecovery: drained,
    };
    p.notes.push(
      `offered ${rate}/s = 2 × ${sustained.rps}/s (${sustained.source}), realistic model (double's own time p50 ${real.p50} ms), hook budget ${HOOK_BUDGET_MS} ms; ` +
        `INFERENCE_CONCURRENCY 256 as in every step (no production limit on the double)`,
    );
    log(`  overload: ${JSON.stringify(p.extra.overload)}`);
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await db?.drop().catch(() => undefined);
  }
}
