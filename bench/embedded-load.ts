/**
 * The embedded default (`npm start`: PGlite, in-process bus, model double) under paced hook load, on its own:
 *
 *   node --require ./bench/register.js bench/embedded-load.ts [--rate=50] [--seconds=10] [--runs=1] [--log=FILE]
 *
 * Starts the system under test (bench/sut.ts, one process, embedded PGlite in a fresh directory) and the model
 * double (bench/double.ts, 0 ms) as child processes, warms up, then fires patient-view hooks through the gateway
 * at `rate`/s open loop (bench/load-worker.ts: a fresh EHR JWT per call, latency from the scheduled start) and
 * prints p50 / p99 / errors per run. `--log` keeps the SUT's log (pino, JSON lines) to read the errors' causes.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, forkTs, LoadGenerator, REPO_DIR, stopChild, waitReady } from './lib/procs';
import { hookJobFor } from './lib/hook-job';
import { benchSutEnv } from './lib/sut-env';
import { summarizeProfile } from './lib/profile';
import type { LoadJob, LoadResult, SutReady } from './lib/types';
import { LOCAL_STACK_NODE_FLAGS } from '../tools/local-stack/runtime-flags';

function arg(name: string, fallback: string): string {
  const hit = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const RATE = Number(arg('rate', '50'));
const SECONDS = Number(arg('seconds', '10'));
const RUNS = Number(arg('runs', '1'));
const LOG_FILE = arg('log', '');
/** `--profile=DIR`: the SUT runs with --cpu-prof into DIR; the top of its profile is printed at the end. */
const PROFILE_DIR = arg('profile', '');

const say = (msg: string): void => {
  process.stdout.write(`[embedded-load ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

function startSut(given: Record<string, string | undefined>): ChildProcess {
  // Unset (not empty) values: the embedded defaults apply only when DATABASE_URL and KAFKA_BROKERS are absent.
  const env = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const out = LOG_FILE ? openSync(LOG_FILE, 'w') : 'ignore';
  return fork(join(BENCH_DIR, 'sut.ts'), [], {
    cwd: REPO_DIR,
    env: env as NodeJS.ProcessEnv,
    execArgv: [
      '--require',
      join(BENCH_DIR, 'register.js'),
      // As `npm start` runs it.
      ...LOCAL_STACK_NODE_FLAGS,
      ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
    ],
    stdio: ['ignore', out, 'pipe', 'ipc'],
  });
}

function hookJob(sut: SutReady, name: string, rate: number, durationS: number, seed: number): LoadJob {
  const connections = Math.max(16, Math.ceil(rate * 0.6));
  return hookJobFor(sut, { name, hook: 'patient-view', vary: true, seed, rate, connections, durationS });
}

function line(r: LoadResult): string {
  return (
    `${r.name}: ${r.requests} calls, achieved ${r.throughputRps}/s, p50 ${r.latencyMs.p50} ms, ` +
    `p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms, errors ${r.errors} ${JSON.stringify(r.status)}, ` +
    `empty cards ${r.emptyCards}${r.firstError ? `, first error ${r.firstError.slice(0, 160)}` : ''}`
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meditron-embedded-load-'));
  const load = new LoadGenerator();
  let double: ChildProcess | undefined;
  let sut: ChildProcess | undefined;
  try {
    double = forkTs('double.ts', { ...process.env });
    const d = await waitReady<{ type: string; baseUrl: string }>(double, 30_000, 'model double');
    sut = startSut(
      benchSutEnv({
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        DEV_IDP_PORT: '0',
        INFERENCE_BACKENDS: `vllm=${d.baseUrl}`,
        DATABASE_URL: undefined,
        KAFKA_BROKERS: undefined,
        BENCH_PGLITE_DIR: join(dir, 'pgdata'),
        BENCH_DEV_CLIENT_DIR: join(dir, 'dev-client'),
      }),
    );
    const ready = await waitReady<SutReady>(sut, 180_000, 'system under test');
    if (ready.mode.database !== 'embedded') throw new Error(`expected embedded PGlite, got ${ready.mode.database}`);
    say(`stack up (${JSON.stringify(ready.mode)}); warming up`);
    say(line(await load.run(hookJob(ready, 'warm-up 5/s', 5, 2, 900))));
    say(line(await load.run(hookJob(ready, 'warm-up 20/s', 20, 3, 901))));
    for (let run = 1; run <= RUNS; run++) {
      await new Promise((r) => setTimeout(r, 2000));
      say(line(await load.run(hookJob(ready, `run ${run}: patient-view ${RATE}/s`, RATE, SECONDS, run))));
    }
  } finally {
    await load.stop();
    await stopChild(sut);
    await stopChild(double);
    rmSync(dir, { recursive: true, force: true });
  }
  if (PROFILE_DIR) {
    const file = readdirSync(PROFILE_DIR)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(PROFILE_DIR, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    if (file) {
      const s = summarizeProfile(file, 25);
      say(`profile ${file}: ${s.totalMs} ms, idle ${s.idlePct} %`);
      for (const a of s.byArea.slice(0, 12)) say(`  ${a.selfPct} %  ${a.area}`);
      for (const t of s.top) say(`  ${t.selfPct} %  ${t.fn} ${t.where}`);
    }
  }
}

main().catch((e: unknown) => {
  say(`failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
