/**
 * `node --require ./bench/register.js bench/facade-ab.ts`: the OpenAI facade of this tree against a baseline
 * tree's (`FACADE_BASELINE=<checkout with node_modules>`), in the same run: one model double (0 ms), one system
 * under test per tree (single-process stack, each on its own fresh Postgres database), and closed-loop autocannon
 * on `/v1/chat/completions` at c=16 and c=64, alternating the targets round by round (direct to the double,
 * before, after). Prints p50/p99 per target and concurrency (median over the rounds), the overhead over
 * direct, and the CPU each target's process spent per request (robust where latency is not, on a shared machine).
 * `FACADE_AB_ROUNDS` (default 4) and `FACADE_AB_STEP_S` (default 5) size it; `FACADE_AB_PROF=<dir>`
 * writes a CPU profile of each SUT there. `FACADE_AB_PORTKEY=1` adds Portkey's gateway (the package the full bench
 * compares with) as one more target, pointed at the same double, so the facade is compared with it in the same run.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres';
import { forkTs, LoadGenerator, REPO_DIR, spawnService, stopChild, waitReady } from './lib/procs';
import { round } from './lib/stats';
import type { LoadResult, SutReady } from './lib/types';

const KEY = 'bench-facade-key';
const ROUNDS = Number(process.env.FACADE_AB_ROUNDS ?? 4);
const STEP_S = Number(process.env.FACADE_AB_STEP_S ?? 5);
const PROF = process.env.FACADE_AB_PROF;
const BASELINE = process.env.FACADE_BASELINE;
const PORTKEY = process.env.FACADE_AB_PORTKEY === '1';
const PORTKEY_PORT = 18788;
const BODY = JSON.stringify({
  model: 'meditron-70b',
  messages: [{ role: 'user', content: 'Summarise the renal dosing considerations for metformin in two sentences.' }],
  max_tokens: 64,
});

function sutEnv(
  databaseUrl: string,
  backend: string,
  tag: string,
  idpPort: number,
): Record<string, string | undefined> {
  return {
    ...process.env,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    GATEWAY_PORT: '0',
    CDS_HOOKS_PORT: '0',
    INFERENCE_PROXY_PORT: '0',
    METRICS_PORT: '0',
    // The dev identity provider's fixed default (8088) would collide between the two stacks and with `npm start`.
    DEV_IDP_PORT: String(idpPort),
    BIND_HOST: '127.0.0.1',
    INFERENCE_CONCURRENCY: '256',
    INFERENCE_QUEUE_CAPACITY: '10000',
    BACKEND_MAX_OUTSTANDING: '1024',
    FACADE_API_KEYS: KEY,
    // The facade's own per-key limits would be the first thing measured: lifted, as bench/run.ts lifts the gateway's.
    FACADE_REQUESTS_PER_WINDOW: '1000000',
    FACADE_TOKENS_PER_WINDOW: '1000000000',
    DATABASE_URL: databaseUrl,
    INFERENCE_BACKENDS: `vllm=${backend}`,
    BENCH_DEV_CLIENT_DIR: join(tmpdir(), `meditron-facade-ab-${tag}-${process.pid}`),
  };
}

/** User + system CPU of a process so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const trees: Array<[string, string]> = [
    ...(BASELINE ? ([['before', BASELINE]] as Array<[string, string]>) : []),
    ['after', REPO_DIR],
  ];
  const dbs: TestDatabase[] = [];
  const children: Array<ReturnType<typeof fork>> = [];
  const load = new LoadGenerator();
  try {
    const double = forkTs('double.ts', { ...process.env });
    children.push(double);
    const d = await waitReady<{ type: string; url: string; baseUrl: string }>(double, 30_000, 'model double');
    const targets: Array<{ name: string; origin: string; headers: Record<string, string>; pid: number }> = [
      { name: 'direct', origin: d.url, headers: {}, pid: double.pid! },
    ];
    for (const [tag, dir] of trees) {
      const db = await createTestDatabase(`facade_ab_${tag}`);
      dbs.push(db);
      const execArgv = ['--require', join(dir, 'bench', 'register.js')];
      if (PROF) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(PROF, tag)}`);
      const child = fork(join(dir, 'bench', 'sut.ts'), [], {
        cwd: dir,
        env: sutEnv(db.url, d.baseUrl, tag, 20_000 + (process.pid % 20_000) + children.length) as NodeJS.ProcessEnv,
        execArgv,
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      children.push(child);
      const ready = await waitReady<SutReady>(child, 180_000, `${tag} system under test`);
      targets.push({
        name: tag,
        origin: ready.inferenceProxyUrl,
        headers: { authorization: `Bearer ${KEY}` },
        pid: child.pid!,
      });
    }
    if (PORTKEY) {
      const entry = join(REPO_DIR, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
      const portkey = await spawnService(
        process.execPath,
        [entry, `--port=${PORTKEY_PORT}`, '--headless'],
        async () => (await fetch(`http://127.0.0.1:${PORTKEY_PORT}/`)).status < 500,
        30_000,
      );
      children.push(portkey);
      targets.push({
        name: 'portkey',
        origin: `http://127.0.0.1:${PORTKEY_PORT}`,
        headers: { authorization: 'Bearer unused', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': d.baseUrl },
        pid: portkey.pid!,
      });
    }
    const results = new Map<string, LoadResult[]>();
    /** CPU ms the target's process spent during its steps: robust where latency is not, on a shared machine. */
    const cpu = new Map<string, number>();
    const run = (t: (typeof targets)[number], connections: number, durationS: number) =>
      load.run({
        name: `${t.name} c=${connections}`,
        origin: t.origin,
        paths: ['/v1/chat/completions'],
        method: 'POST',
        headers: { 'content-type': 'application/json', ...t.headers },
        auth: { kind: 'none' },
        body: { kind: 'static', text: BODY },
        mode: 'closed',
        connections,
        durationS,
        timeoutMs: 10_000,
      });
    for (const t of targets) await run(t, 16, 2); // warm-up
    for (let r = 0; r < ROUNDS; r++)
      for (const connections of [16, 64])
        for (let k = 0; k < targets.length; k++) {
          const t = targets[(r + k) % targets.length]!;
          const cpuBefore = cpuMsOf(t.pid);
          const res = await run(t, connections, STEP_S);
          const key = `${t.name} c=${connections}`;
          cpu.set(key, (cpu.get(key) ?? 0) + cpuMsOf(t.pid) - cpuBefore);
          results.set(key, [...(results.get(key) ?? []), res]);
          process.stderr.write(
            `round ${r + 1} ${key}: ${res.throughputRps} req/s p50 ${res.latencyMs.p50} p99 ${res.latencyMs.p99} errors ${res.errors}\n`,
          );
        }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    process.stdout.write(
      `\n| target | c | rounds | req/s (median) | p50 ms (median of rounds) | p99 ms (median of rounds) | overhead p50 / p99 ms | CPU µs per request | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n`,
    );
    for (const connections of [16, 64]) {
      const direct = results.get(`direct c=${connections}`)!;
      const dp50 = median(direct.map((x) => x.latencyMs.p50));
      const dp99 = median(direct.map((x) => x.latencyMs.p99));
      for (const t of targets) {
        const rs = results.get(`${t.name} c=${connections}`)!;
        const p50 = median(rs.map((x) => x.latencyMs.p50));
        const p99 = median(rs.map((x) => x.latencyMs.p99));
        const over = t.name === 'direct' ? '-' : `${round(p50 - dp50)} / ${round(p99 - dp99)}`;
        const errors = rs.reduce((s, x) => s + x.errors, 0);
        const rps = median(rs.map((x) => x.throughputRps));
        const completed = rs.reduce((sum, x) => sum + x.completed, 0);
        const cpuUs = Math.round((1000 * cpu.get(`${t.name} c=${connections}`)!) / Math.max(1, completed));
        process.stdout.write(
          `| ${t.name} | ${connections} | ${rs.length} | ${rps} | ${p50} | ${p99} | ${over} | ${cpuUs} | ${errors} |\n`,
        );
      }
    }
  } finally {
    await load.stop();
    for (const c of children.reverse()) await stopChild(c);
    for (const db of dbs) await db.drop().catch(() => undefined);
  }
}

void main();
