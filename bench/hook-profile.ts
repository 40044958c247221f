/**
 * `HOOKPROF_TREE=<checkout> HOOKPROF_DIR=<dir> node --require ./bench/register.js bench/hook-profile.ts`: a CPU
 * profile of one tree's single-process stack (fresh Postgres database, model double at 0 ms) under patient-view
 * hooks at 50/s offered for 15 s (each prompt distinct), after a 4 s warm-up at 10/s. Prints what the load achieved;
 * the profile (`--cpu-prof`) is written to HOOKPROF_DIR when the stack stops. Run it on a baseline checkout and on
 * this one to compare where the busy time goes.
 */
import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../test/support/postgres';
import { hookJobFor } from './lib/hook-job';
import { forkTs, LoadGenerator, stopChild, waitReady } from './lib/procs';
import { benchSutEnv } from './lib/sut-env';
import type { SutReady, LoadJob } from './lib/types';

async function main(): Promise<void> {
  const tree = process.env.HOOKPROF_TREE ?? join(__dirname, '..');
  const prof = process.env.HOOKPROF_DIR ?? join(tmpdir(), 'meditron-hook-profile');
  const db = await createTestDatabase('hookprof');
  const load = new LoadGenerator();
  const double = forkTs('double.ts', { ...process.env });
  const d = await waitReady<{ type: string; url: string; baseUrl: string }>(double, 30_000, 'double');
  const sut = fork(join(tree, 'bench', 'sut.ts'), [], {
    cwd: tree,
    env: benchSutEnv({
      LOG_LEVEL: 'info',
      DEV_IDP_PORT: String(21000 + (process.pid % 9000)),
      DATABASE_URL: db.url,
      INFERENCE_BACKENDS: `vllm=${d.baseUrl}`,
      BENCH_DEV_CLIENT_DIR: join(tmpdir(), `hookprof-${process.pid}`),
    }) as NodeJS.ProcessEnv,
    execArgv: ['--require', join(tree, 'bench', 'register.js'), '--cpu-prof', `--cpu-prof-dir=${prof}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const ready = await waitReady<SutReady>(sut, 180_000, 'sut');
  const job = (name: string, rate: number, durationS: number, seed: number): LoadJob =>
    hookJobFor(ready, { name, hook: 'patient-view', vary: true, seed, rate, connections: 64, durationS });
  await load.run(job('warm', 10, 4, 1));
  const r = await load.run(job('measure', 50, 15, 2));
  process.stdout.write(`${JSON.stringify({ achieved: r.throughputRps, lat: r.latencyMs, errors: r.errors })}\n`);
  await load.stop();
  await stopChild(sut);
  await stopChild(double);
  await db.drop();
}
void main();
