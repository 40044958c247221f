/**
 * `--soak`: ten minutes (BENCH_SOAK_MINUTES) at 50 hooks/s, model 0 ms, in one-minute open-loop steps, as deployed
 * (three processes over Kafka; BENCH_SOAK_MODE=single for the one process on Postgres). RSS of each app every 5 s;
 * the least-squares slope per app in MB/min (after the first minute's warm-up), growth flagged above 1 MB/min.
 */
import { createTestDatabase, type TestDatabase } from '@app/testing/postgres';
import { startDouble, type Double } from '../lib/double-control';
import { log } from '../lib/options';
import { rssOf, stopChild } from '../lib/procs';
import type { PartRecord } from '../lib/results';
import { round } from '../lib/stats';
import { hookStep, warmUp } from '../lib/steps';
import { startSut, sutEnv, type Sut } from '../lib/sut-control';
import { slope } from '../lib/usage';
import { withKafkaSut } from './kafka';

const FLAG_MB_PER_MIN = Number(process.env.BENCH_SOAK_FLAG_MB_PER_MIN ?? 1);

export interface SoakTrend {
  first: number;
  last: number;
  max: number;
  slopeMbPerMin: number;
  growing: boolean;
}

async function soakOn(p: PartRecord, sut: Sut, double: Double): Promise<void> {
  await warmUp(sut);
  const samples: Array<{ s: number; rssMb: Record<string, number> }> = [];
  const s0 = Date.now();
  const sample = (): void => {
    const rssMb: Record<string, number> = {};
    for (const [app, pid] of Object.entries(sut.pids)) {
      const r = rssOf(pid);
      if (r) rssMb[app] = r.rssMb;
    }
    samples.push({ s: Math.round((Date.now() - s0) / 1000), rssMb });
  };
  sample();
  const timer = setInterval(sample, 5000);
  const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
  try {
    for (let m = 0; m < minutes; m++) {
      await hookStep(p, sut, double, {
        series: `soak 50/s ${sut.kind}`,
        hook: 'patient-view',
        rate: 50,
        connections: 32,
        profile: 'zero',
        modelMs: 0,
        durationS: 60,
      });
    }
  } finally {
    clearInterval(timer);
  }
  sample();
  const trend: Record<string, SoakTrend> = {};
  for (const app of Object.keys(sut.pids)) {
    const all = samples.filter((x) => x.rssMb[app] !== undefined);
    // The first minute is warm-up (JIT, pools, caches filling): the slope is taken after it when there is enough.
    const after = all.filter((x) => x.s >= 60);
    const pts = after.length >= 6 ? after : all;
    const ys = all.map((x) => x.rssMb[app]!);
    const perS = slope(
      pts.map((x) => x.s),
      pts.map((x) => x.rssMb[app]!),
    );
    trend[app] = {
      first: ys[0] ?? 0,
      last: ys.at(-1) ?? 0,
      max: Math.max(0, ...ys),
      slopeMbPerMin: round(perS * 60),
      growing: perS * 60 > FLAG_MB_PER_MIN,
    };
  }
  p.extra.memory = { mode: sut.kind, minutes, flagMbPerMin: FLAG_MB_PER_MIN, perApp: trend, samples };
  log(`  soak trend: ${JSON.stringify(trend)}`);
}

export async function soak(p: PartRecord): Promise<void> {
  if (process.env.BENCH_SOAK_MODE !== 'single') {
    await withKafkaSut(p, 'deployed', (sut, double) => soakOn(p, sut, double));
    return;
  }
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  try {
    db = await createTestDatabase('bench_soak');
    double = await startDouble();
    sut = await startSut(sutEnv({ DATABASE_URL: db.url, INFERENCE_BACKENDS: `vllm=${double.baseUrl}` }));
    await soakOn(p, sut, double);
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await db?.drop().catch(() => undefined);
  }
}
