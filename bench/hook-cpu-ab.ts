/**
 * `HOOKCPU_TREES=<checkout A>,<checkout B> [HOOKCPU_ROUNDS=2] [HOOKCPU_RATE=50] node --require ./bench/register.js
 * bench/hook-cpu-ab.ts`: CPU milliseconds per hook of each tree's single-process stack, A/B/A/B in one run (fresh
 * Postgres database per run, model double at 0 ms, patient-view hooks with distinct prompts, open loop, a 6 s warm-up
 * at 10/s, 5 s idle, then 15 s at HOOKCPU_RATE). CPU is the system under test's user + system time (/proc) over the
 * measured step divided by the hooks answered, and again less the idle CPU rate (the marginal cost); no profiler. Robust to a shared machine in a way latency is not:
 * other processes take wall time, not this process's CPU time. Prints one JSON line per run and a summary.
 */
import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../test/support/postgres';
import { forkTs, LoadGenerator, stopChild, waitReady } from './lib/procs';
import { benchSutEnv } from './lib/sut-env';
import type { LoadJob, SutReady } from './lib/types';
import { hookJobFor } from './lib/hook-job';
import { cpuSecondsOf, mainThreadCpuSeconds } from './lib/usage';

const IDLE_S = 5;
const MEASURE_S = 15;

interface Run {
  readonly tree: string;
  readonly cpuMsPerHook: number;
  /** CPU ms per second of the same stack idle (5 s right after the warm-up): pollers, timers, metrics. */
  readonly idleCpuMsPerS: number;
  /** cpuMsPerHook less the idle share: what one more hook costs. */
  readonly marginalCpuMsPerHook: number;
  /** The main thread's share of cpuMsPerHook (the JavaScript a CPU profile samples). */
  readonly mainThreadCpuMsPerHook: number;
  readonly achieved: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
}

async function once(tree: string, doubleUrl: string, rate: number): Promise<Run> {
  const db = await createTestDatabase('hookcpu');
  const load = new LoadGenerator();
  const sut = fork(join(tree, 'bench', 'sut.ts'), [], {
    cwd: tree,
    env: benchSutEnv({
      LOG_LEVEL: 'info',
      DEV_IDP_PORT: String(21000 + (process.pid % 9000)),
      DATABASE_URL: db.url,
      INFERENCE_BACKENDS: `vllm=${doubleUrl}`,
      BENCH_DEV_CLIENT_DIR: join(tmpdir(), `hookcpu-${process.pid}`),
    }) as NodeJS.ProcessEnv,
    execArgv: ['--require', join(tree, 'bench', 'register.js')],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  try {
    const ready = await waitReady<SutReady>(sut, 180_000, 'sut');
    const job = (name: string, r: number, durationS: number, seed: number): LoadJob =>
      hookJobFor(ready, { name, hook: 'patient-view', vary: true, seed, rate: r, connections: 64, durationS });
    await load.run(job('warm', 10, 6, 1));
    const idleStart = cpuSecondsOf(sut.pid)!;
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const before = cpuSecondsOf(sut.pid)!;
    const mainBefore = mainThreadCpuSeconds(sut.pid!);
    const idleMsPerS = ((before - idleStart) * 1000) / IDLE_S;
    const r = await load.run(job('measure', rate, MEASURE_S, 2));
    const after = cpuSecondsOf(sut.pid)!;
    const mainAfter = mainThreadCpuSeconds(sut.pid!);
    const answered = Math.max(1, r.throughputRps * MEASURE_S);
    const round = (x: number) => Math.round(x * 100) / 100;
    return {
      tree,
      cpuMsPerHook: round(((after - before) * 1000) / answered),
      idleCpuMsPerS: round(idleMsPerS),
      marginalCpuMsPerHook: round(((after - before) * 1000 - idleMsPerS * MEASURE_S) / answered),
      mainThreadCpuMsPerHook: round(((mainAfter - mainBefore) * 1000) / answered),
      achieved: r.throughputRps,
      errors: r.errors,
      p50: r.latencyMs.p50,
      p99: r.latencyMs.p99,
    };
  } finally {
    await load.stop();
    await stopChild(sut);
    await db.drop();
  }
}

async function main(): Promise<void> {
  const trees = (process.env.HOOKCPU_TREES ?? join(__dirname, '..')).split(',');
  const rounds = Number(process.env.HOOKCPU_ROUNDS ?? 2);
  const rate = Number(process.env.HOOKCPU_RATE ?? 50);
  const double = forkTs('double.ts', { ...process.env });
  const d = await waitReady<{ type: string; url: string; baseUrl: string }>(double, 30_000, 'double');
  const runs: Run[] = [];
  for (let i = 0; i < rounds; i++)
    for (const tree of trees) {
      const run = await once(tree, d.baseUrl, rate);
      runs.push(run);
      process.stdout.write(`${JSON.stringify(run)}\n`);
    }
  for (const tree of trees) {
    const mine = runs.filter((r) => r.tree === tree);
    const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2);
    const all = mine.map((r) => r.cpuMsPerHook);
    const marginal = mine.map((r) => r.marginalCpuMsPerHook);
    const mainThread = mine.map((r) => r.mainThreadCpuMsPerHook);
    process.stdout.write(
      `${tree}: CPU ms/hook ${all.join(', ')} (mean ${mean(all)}); marginal ${marginal.join(', ')} (mean ${mean(marginal)}); main thread ${mainThread.join(', ')} (mean ${mean(mainThread)})\n`,
    );
  }
  await stopChild(double);
}
void main();
