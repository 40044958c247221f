/**
 * `GCYOUNG_TREES=<checkout A>,<checkout B> [GCYOUNG_ROUNDS=2] [GCYOUNG_RATE=50] [GCYOUNG_S=30] [GCYOUNG_PATH=fresh]
 * node --require ./bench/register.js bench/gc-young.ts`: V8's young-generation collections (scavenges) in each tree's
 * single-process stack under repeat-path (cache hit) hooks, or with GCYOUNG_PATH=fresh a new prompt per call, A/B/A/B
 * in one run. The system under test runs with
 * `--trace-gc-nvp`; over the measured step (GCYOUNG_S s at GCYOUNG_RATE hooks/s, open loop, after a 6 s warm-up and
 * one priming call) the script reads every scavenge's pause, promoted bytes and bytes that survived, and reports
 * medians and maxima, the pause total, and promoted KB per hook. A scavenge pauses the whole process (all three
 * apps in this mode), so its length is a floor under the tail of every call it lands on; what survives a scavenge
 * is copied, and what survives twice is promoted and waits for a full collection.
 * Writes one JSON line per run and, with GCYOUNG_OUT=<file.md>, a markdown table.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../test/support/postgres';
import { enqueueAnswers, startDouble } from './lib/double-control';
import { hookJobFor } from './lib/hook-job';
import { LoadGenerator, stopChild, waitReady } from './lib/procs';
import { table } from './lib/report-util';
import { benchSutEnv } from './lib/sut-env';
import { LOCAL_STACK_NODE_FLAGS } from '../tools/local-stack/runtime-flags';
import type { LoadJob, SutReady } from './lib/types';

interface Scavenge {
  readonly pauseMs: number;
  readonly promoted: number;
  readonly survived: number;
}

interface Run {
  readonly tree: string;
  readonly path: 'repeat' | 'fresh';
  readonly hooks: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly scavenges: number;
  readonly pauseMsP50: number;
  readonly pauseMsMax: number;
  readonly pauseMsTotal: number;
  readonly promotedMbP50: number;
  readonly survivedMbP50: number;
  readonly promotedKbPerHook: number;
  readonly fullGcs: number;
  /** Pauses of the full (mark-compact / mark-sweep) collections' final atomic step. */
  readonly fullGcPauseMsMax: number;
}

/** One `--trace-gc-nvp` line of a scavenge (`gc=s`), or undefined for any other line. */
export function scavengeOf(line: string): Scavenge | undefined {
  if (!/\bgc=s\b/.test(line)) return undefined;
  const field = (name: string): number => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? NaN);
  return { pauseMs: field('pause'), promoted: field('promoted'), survived: field('new_space_survived') };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

async function once(tree: string, doubleUrl: string, rate: number, seconds: number, path: Run['path']): Promise<Run> {
  const db = await createTestDatabase('gcyoung');
  const load = new LoadGenerator();
  const sut: ChildProcess = fork(join(tree, 'bench', 'sut.ts'), [], {
    cwd: tree,
    env: benchSutEnv({
      LOG_LEVEL: 'info',
      // JSON lines on stdout (they share the pipe with V8's trace; only the trace's lines are read).
      LOG_FORMAT: 'json',
      DEV_IDP_PORT: String(21000 + (process.pid % 9000)),
      DATABASE_URL: db.url,
      INFERENCE_BACKENDS: `vllm=${doubleUrl}`,
      BENCH_DEV_CLIENT_DIR: join(tmpdir(), `gcyoung-${process.pid}`),
    }) as NodeJS.ProcessEnv,
    // Both trees with the flags `npm start` gives the stack (this tree's: a harness setting, like the load).
    execArgv: ['--require', join(tree, 'bench', 'register.js'), ...LOCAL_STACK_NODE_FLAGS, '--trace-gc-nvp'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let measuring = false;
  const seen: Scavenge[] = [];
  const fullPauses: number[] = [];
  let partial = '';
  sut.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    if (!measuring) return;
    for (const line of lines) {
      const s = scavengeOf(line);
      if (s) seen.push(s);
      else if (/\bgc=(mc|ms|mmc)\b/.test(line)) fullPauses.push(Number(/\bpause=([\d.]+)/.exec(line)?.[1] ?? NaN));
    }
  });
  try {
    const ready = await waitReady<SutReady>(sut, 180_000, 'sut');
    const job = (name: string, r: number, durationS: number, vary: boolean, seed: number): LoadJob =>
      hookJobFor(ready, { name, hook: 'patient-view', vary, seed, rate: r, connections: 64, durationS });
    await load.run(job('warm', 10, 6, true, 1));
    // The repeat path: one call stores the answer, the measured calls find it. The fresh path: every call a new prompt.
    if (path === 'repeat') await load.run(job('prime', 1, 1, false, 0));
    measuring = true;
    const r = await load.run(job('measure', rate, seconds, path === 'fresh', 2));
    measuring = false;
    const pauses = seen.map((s) => s.pauseMs);
    const promoted = seen.reduce((a, s) => a + s.promoted, 0);
    return {
      tree,
      path,
      hooks: r.completed,
      errors: r.errors,
      p50: r.latencyMs.p50,
      p99: r.latencyMs.p99,
      scavenges: seen.length,
      pauseMsP50: round(median(pauses)),
      pauseMsMax: round(Math.max(0, ...pauses)),
      pauseMsTotal: Math.round(pauses.reduce((a, b) => a + b, 0)),
      promotedMbP50: round(median(seen.map((s) => s.promoted)) / 1048576, 2),
      survivedMbP50: round(median(seen.map((s) => s.survived)) / 1048576, 2),
      promotedKbPerHook: round(promoted / 1024 / Math.max(1, r.completed)),
      fullGcs: fullPauses.length,
      fullGcPauseMsMax: round(Math.max(0, ...fullPauses)),
    };
  } finally {
    await load.stop();
    await stopChild(sut);
    await db.drop();
  }
}

function runsTable(runs: readonly Run[]): string {
  const head = [
    'tree',
    'path',
    'hooks',
    'errors',
    'p50 ms',
    'p99 ms',
    'scavenges',
    'pause p50 ms',
    'pause max ms',
    'pause total ms',
    'promoted MB p50',
    'survived MB p50',
    'promoted KB/hook',
    'full GCs',
    'full GC pause max ms',
  ];
  return table(
    head,
    runs.map((r) =>
      [
        r.tree,
        r.path,
        r.hooks,
        r.errors,
        r.p50,
        r.p99,
        r.scavenges,
        r.pauseMsP50,
        r.pauseMsMax,
        r.pauseMsTotal,
        r.promotedMbP50,
        r.survivedMbP50,
        r.promotedKbPerHook,
        r.fullGcs,
        r.fullGcPauseMsMax,
      ].map(String),
    ),
  );
}

async function main(): Promise<void> {
  const trees = (process.env.GCYOUNG_TREES ?? join(__dirname, '..')).split(',');
  const rounds = Number(process.env.GCYOUNG_ROUNDS ?? 2);
  const rate = Number(process.env.GCYOUNG_RATE ?? 50);
  const seconds = Number(process.env.GCYOUNG_S ?? 30);
  const path: Run['path'] = process.env.GCYOUNG_PATH === 'fresh' ? 'fresh' : 'repeat';
  const double = await startDouble();
  const runs: Run[] = [];
  try {
    for (let i = 0; i < rounds; i++)
      for (const tree of trees) {
        await enqueueAnswers(double, 2);
        const run = await once(tree, double.baseUrl, rate, seconds, path);
        runs.push(run);
        process.stdout.write(`${JSON.stringify(run)}\n`);
      }
  } finally {
    await stopChild(double.child);
  }
  const out = process.env.GCYOUNG_OUT;
  if (out) writeFileSync(out, `${runsTable(runs)}\n`);
  process.stdout.write(`${runsTable(runs)}\n`);
}

if (require.main === module) void main();
