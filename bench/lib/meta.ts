/** What the run was measured on: machine, versions, options and method (results.meta). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { AUDIT_ROWS, BASELINE, QUICK, SOAK, STEP_S } from './options';
import { REPO_DIR } from './procs';
import { results } from './results';
import { errorText, round } from './stats';

export function packageVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(REPO_DIR, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'not installed';
  }
}

async function pgVersion(): Promise<string> {
  const c = new Client({
    connectionString: process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  });
  await c.connect();
  try {
    return (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  } finally {
    await c.end();
  }
}

export function gitInfo(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_DIR }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs', 'tools'], { cwd: REPO_DIR })
      .toString()
      .trim();
    return dirty ? `${head} + uncommitted changes in apps/libs/tools (the working tree was measured)` : head;
  } catch {
    return 'unknown';
  }
}

export async function collectMeta(): Promise<void> {
  const cpu = cpus();
  results.meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memTotalMb: Math.round(totalmem() / 1048576),
    memFreeMbAtStart: Math.round(freemem() / 1048576),
    loadavgAtStart: loadavg().map((v) => round(v)),
    postgres: await pgVersion().catch((e: unknown) => `unreachable: ${errorText(e)}`),
    packages: Object.fromEntries(
      [
        '@nestjs/core',
        '@nestjs/platform-express',
        'typeorm',
        'pg',
        'kafkajs',
        '@electric-sql/pglite',
        'pino',
        'jose',
        'autocannon',
        '@portkey-ai/gateway',
        '@swc/core',
      ].map((n) => [n, packageVersion(n)]),
    ),
    gitCommit: gitInfo(),
    options: { quick: QUICK, soak: SOAK, stepS: STEP_S, auditRows: AUDIT_ROWS, baseline: BASELINE ?? null },
    method: [
      'Single-process mode: tools/local-stack (gateway, cds-hooks, inference-proxy in ONE Node process; its RSS and CPU are the three apps together). It runs the TypeScript through the benchmark swc require hook, whose compiler adds ~35 MB to that RSS.',
      'Deployed mode: the three apps as separate processes from their own entry points, compiled as the image runs them (node dist/apps/<app>/src/main.js, built by tsc + tsc-alias into a temporary directory), configured as the Helm chart configures them, over Kafka (the librdkafka mock cluster), each on its own Postgres login; RSS and CPU per app. The in-process bus is an object in one process: it cannot span processes, so deployed mode is Kafka only.',
      'Model double: its own process (libs/model-double), backend of the proxy via INFERENCE_BACKENDS.',
      'Load: a separate Node process. Hook steps are open-loop (fixed arrival schedule, latency from the scheduled start);',
      'throughput and facade comparisons are closed-loop autocannon at a fixed connection count.',
      'Each hook request carries a fresh single-use ES384 JWT from the dev EHR client, minted before the step.',
      'Model-path steps vary the prompt per request (extra conditions + birth year) so that no result is reused.',
      "Before every hook step the harness waits until the SUT is idle: every app's queue, in-flight and backlog gauges (meditron_proxy_inflight, _queue_depth, _backend_outstanding, _backend_queue_waiting, _result_write_backlog, _consumer_lag, meditron_audit_queue_depth) read 0 on two probes in a row (bounded wait; the wait and whether idle was reached are recorded per step).",
    ],
  };
}
