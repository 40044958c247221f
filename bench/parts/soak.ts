/**
 * `--soak`: ten minutes (BENCH_SOAK_MINUTES) at 50 hooks/s, model 0 ms, in one-minute open-loop steps, as deployed
 * (three processes over Kafka; BENCH_SOAK_MODE=single for the one process on Postgres). RSS of each app every 5 s;
 * the least-squares slope per app in MB/min after the first minute's warm-up and over the second half alone, growth
 * flagged when the second half's is above 1 MB/min (bench/lib/memory-trend.ts: a plateau reached early is warm-up).
 * Deployed, each app runs with the chart's runtime settings (bench/lib/chart-runtime.ts). When either slope of an app
 * is above the flag, and only then, each app's heap is snapshotted after the measured window and again
 * BENCH_SOAK_SNAPSHOT_GAP_MINUTES (2) later under the same load; the two are kept to compare.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@app/testing/postgres';
import { startDouble, type Double } from '../lib/double-control';
import { log, sleep } from '../lib/options';
import { rssOf, stopChild } from '../lib/procs';
import type { PartRecord } from '../lib/results';
import { round } from '../lib/stats';
import { memoryTrend, type RssSample, type SoakTrend } from '../lib/memory-trend';
import { hookStep, warmUp } from '../lib/steps';
import { startSut, sutEnv, type Sut } from '../lib/sut-control';
import { standInAutovacuum } from '../lib/vacuum-stand-in';
import { withKafkaSut } from './kafka';

const FLAG_MB_PER_MIN = Number(process.env.BENCH_SOAK_FLAG_MB_PER_MIN ?? 1);
/** Minutes at 50 hooks/s between the two heap snapshots taken when an app grows. */
const SNAPSHOT_GAP_MINUTES = Number(process.env.BENCH_SOAK_SNAPSHOT_GAP_MINUTES ?? 2);

type Snapshots = Record<string, { file: string; mb: number }>;

/**
 * Heap snapshots of every deployed app (SIGUSR2, `--heapsnapshot-signal`): waits until each app has written one
 * more file and its size has settled. Returns file and MB per app.
 */
async function heapSnapshots(sut: Sut, dir: string): Promise<Snapshots> {
  const out: Snapshots = {};
  for (const [app, pid] of Object.entries(sut.pids)) {
    const appDir = join(dir, app);
    const before = new Set(readdirSync(appDir));
    if (pid) process.kill(pid, 'SIGUSR2');
    let last = -1;
    for (let i = 0; i < 240; i++) {
      await sleep(500);
      const file = readdirSync(appDir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
      if (!file) continue;
      const size = statSync(join(appDir, file)).size;
      if (size > 0 && size === last) {
        out[app] = { file: join(appDir, file), mb: round(size / 1048576) };
        break;
      }
      last = size;
    }
  }
  return out;
}

/** Current RSS of every process of the SUT, MB. */
function rssNow(sut: Sut): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [app, pid] of Object.entries(sut.pids)) {
    const r = rssOf(pid);
    if (r) out[app] = r.rssMb;
  }
  return out;
}

/** One minute of open-loop patient-view calls at 50 hooks/s, model 0 ms. */
async function minuteAt50(p: PartRecord, sut: Sut, double: Double, series: string): Promise<void> {
  await hookStep(p, sut, double, {
    series,
    hook: 'patient-view',
    rate: 50,
    connections: 32,
    profile: 'zero',
    modelMs: 0,
    durationS: 60,
  });
}

async function soakOn(p: PartRecord, sut: Sut, double: Double, dbUrl: string, heapDir?: string): Promise<void> {
  const vacuum = await standInAutovacuum(dbUrl);
  if (vacuum.active) {
    p.notes.push(
      "this Postgres runs with autovacuum off: the soak runs VACUUM (ANALYZE) of its database every 30 s in autovacuum's place (without it the hook path's deleted and updated rows stay as dead versions for the whole soak)",
    );
  }
  try {
    await soakMeasured(p, sut, double, heapDir);
  } finally {
    await vacuum.stop();
    if (vacuum.active) p.notes.push(`VACUUM runs during the soak: ${vacuum.runs()}`);
  }
}

async function soakMeasured(p: PartRecord, sut: Sut, double: Double, heapDir?: string): Promise<void> {
  await warmUp(sut);
  const samples: RssSample[] = [];
  const s0 = Date.now();
  const sample = (): void => {
    samples.push({ s: Math.round((Date.now() - s0) / 1000), rssMb: rssNow(sut) });
  };
  sample();
  const timer = setInterval(sample, 5000);
  const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
  try {
    for (let m = 0; m < minutes; m++) await minuteAt50(p, sut, double, `soak 50/s ${sut.kind}`);
  } finally {
    clearInterval(timer);
  }
  sample();
  const trend: Record<string, SoakTrend> = {};
  for (const app of Object.keys(sut.pids)) trend[app] = memoryTrend(samples, app, FLAG_MB_PER_MIN);
  log(`  soak trend: ${JSON.stringify(trend)}`);
  // Either slope above the flag: a plateau (not flagged) is still worth a look at what filled the heap.
  const grows = Object.values(trend).some((t) => t.growing || t.slopeMbPerMin > FLAG_MB_PER_MIN);
  // Only when something grows, and only after the measured window: writing a snapshot stalls an app for seconds
  // (a backlog at 50/s) and leaves native memory in it, which would be what the trend measured. Two snapshots
  // SNAPSHOT_GAP_MINUTES apart under the same load show what grew in between (kept: compare them in Chrome
  // DevTools, Memory, Comparison).
  let heap: { start: Snapshots; end: Snapshots; gapMinutes: number } | undefined;
  if (heapDir && grows) {
    const start = await heapSnapshots(sut, heapDir);
    for (let m = 0; m < SNAPSHOT_GAP_MINUTES; m++) await minuteAt50(p, sut, double, `soak 50/s ${sut.kind} (heap)`);
    heap = { start, end: await heapSnapshots(sut, heapDir), gapMinutes: SNAPSHOT_GAP_MINUTES };
  }
  if (heapDir && !heap) rmSync(heapDir, { recursive: true, force: true });
  p.extra.memory = {
    mode: sut.kind,
    minutes,
    flagMbPerMin: FLAG_MB_PER_MIN,
    perApp: trend,
    ...(heap ? { heapSnapshots: heap } : {}),
    samples,
  };
}

export async function soak(p: PartRecord): Promise<void> {
  if (process.env.BENCH_SOAK_MODE !== 'single') {
    const heapDir = mkdtempSync(join(tmpdir(), 'meditron-bench-heap-'));
    for (const app of ['gateway', 'cds-hooks', 'inference-proxy']) mkdirSync(join(heapDir, app));
    await withKafkaSut(p, 'deployed', (sut, double, dbUrl) => soakOn(p, sut, double, dbUrl, heapDir), {
      BENCH_HEAP_DIR: heapDir,
    });
    return;
  }
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  try {
    db = await createTestDatabase('bench_soak');
    double = await startDouble();
    sut = await startSut(sutEnv({ DATABASE_URL: db.url, INFERENCE_BACKENDS: `vllm=${double.baseUrl}` }));
    await soakOn(p, sut, double, db.url);
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await db?.drop().catch(() => undefined);
  }
}
