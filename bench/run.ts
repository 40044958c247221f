/**
 * `npm run bench`: the pipeline's latency, throughput and memory on this machine, in one bounded run.
 * Writes bench/results.json, bench/results.md and bench/latency-vs-load.png. Every part is fenced: a part that
 * fails records its error and the run goes on. `npm run bench -- --soak` adds a ten-minute soak (not by default);
 * `--quick` shortens every step (for trying the harness); `--only=part,part` runs only the named parts.
 */
import 'reflect-metadata';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Topics } from '@app/contracts';
import { runMigrations } from '@app/database';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '@app/testing/kafka-broker/mock-kafka';
import { JwksServer, makeTestKey, signToken } from '@app/testing/ehr-tokens';
import { createTestDatabase, type TestDatabase } from '@app/testing/postgres';
import { generateAuditRows, sqlBaseline, type AuditGeneration } from './lib/audit';
import { findingsAnswer } from './lib/payloads';
import { latencySvg, renderPng, type Series } from './lib/plot';
import {
  BENCH_DIR,
  forkTs,
  LoadGenerator,
  REPO_DIR,
  rssOf,
  sampleRss,
  spawnService,
  stopChild,
  waitReady,
} from './lib/procs';
import { summarizeProfile, type ProfileSummary } from './lib/profile';
import { writeReport } from './lib/report';
import { errorText, round, summarize } from './lib/stats';
import type { LoadJob, LoadResult, SutReady } from './lib/types';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const SOAK = args.has('--soak');
/** `--only=a,b`: run only these parts (by name), e.g. a before/after pair of one part. */
const ONLY = new Set(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--only='))
    .flatMap((a) => a.slice('--only='.length).split(','))
    .filter(Boolean),
);
const STEP_S = QUICK ? 4 : 10;
const REALISTIC = { ttftMs: 300, perTokenMs: 10, tokens: 150 };
const ZERO = { ttftMs: 0, perTokenMs: 0 };
const AUDIT_ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? (QUICK ? 50_000 : 1_000_000));
const FACADE_KEY = 'bench-facade-key';

const log = (msg: string): void => {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

// ---------------------------------------------------------------------------------------------------------------
// Results

export interface StepRecord extends LoadResult {
  readonly series: string;
  readonly hook: string;
  readonly modelProfile: 'zero' | 'realistic';
  /** The model double's own time per call (measured direct, same profile) subtracted from the latency. */
  readonly modelMs: number;
  readonly overheadMs: { p50: number; p95: number; p99: number };
  readonly rssMb: Record<string, { peakRssMb: number; hwmMb: number }>;
  readonly modelCalls: number | null;
  readonly saturated: boolean;
}

export interface PartRecord {
  readonly name: string;
  ok: boolean;
  error?: string;
  durationS: number;
  notes: string[];
  steps: StepRecord[];
  extra: Record<string, unknown>;
}

export interface BenchResults {
  meta: Record<string, unknown>;
  parts: PartRecord[];
  profile?: ProfileSummary | { error: string };
  plot?: { png: string; svg: string; note: string };
  totalS?: number;
}

const results: BenchResults = { meta: {}, parts: [] };
const t0 = Date.now();

function packageVersion(name: string): string {
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
    return (await c.query<{ v: string }>('SHOW server_version')).rows[0]!.v;
  } finally {
    await c.end();
  }
}

function gitInfo(): string {
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

async function collectMeta(): Promise<void> {
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
    options: { quick: QUICK, soak: SOAK, stepS: STEP_S, auditRows: AUDIT_ROWS },
    method: [
      'System under test: tools/local-stack (gateway, cds-hooks, inference-proxy in ONE Node process; RSS is that process).',
      'Model double: its own process (libs/model-double), backend of the proxy via INFERENCE_BACKENDS.',
      'Load: a separate Node process. Hook steps are open-loop (fixed arrival schedule, latency from the scheduled start);',
      'throughput and facade comparisons are closed-loop autocannon at a fixed connection count.',
      'Each hook request carries a fresh single-use ES384 JWT from the dev EHR client, minted before the step.',
      'Model-path steps vary the prompt per request (extra conditions + birth year) so that no result is reused.',
    ],
  };
}

async function part(name: string, budgetMs: number, body: (p: PartRecord) => Promise<void>): Promise<void> {
  if (ONLY.size > 0 && !ONLY.has(name)) return;
  const p: PartRecord = { name, ok: true, durationS: 0, notes: [], steps: [], extra: {} };
  results.parts.push(p);
  const started = Date.now();
  log(`part ${name}: start (budget ${Math.round(budgetMs / 1000)} s)`);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      body(p),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`part exceeded its ${Math.round(budgetMs / 1000)} s budget`)),
          budgetMs,
        );
      }),
    ]);
  } catch (e) {
    p.ok = false;
    p.error = errorText(e);
    log(`part ${name}: FAILED ${p.error}`);
  } finally {
    clearTimeout(timer);
    p.durationS = Math.round((Date.now() - started) / 100) / 10;
    writeFileSync(join(BENCH_DIR, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    log(`part ${name}: done in ${p.durationS} s`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

interface Double {
  child: ChildProcess;
  url: string;
  baseUrl: string;
}

async function startDouble(): Promise<Double> {
  const child = forkTs('double.ts', { ...process.env });
  const ready = await waitReady<{ type: string; url: string; baseUrl: string }>(child, 30_000, 'model double');
  return { child, url: ready.url, baseUrl: ready.baseUrl };
}

async function doubleControl(d: Double, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${d.url}/_double/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`double ${path}: ${res.status} ${await res.text()}`);
}

async function doubleStats(d: Double): Promise<{ received: number; answered: number }> {
  const res = await fetch(`${d.url}/_double/stats`);
  return (await res.json()) as { received: number; answered: number };
}

/** Queues `n` answers of the realistic length (150 tokens) on the double. */
async function enqueueAnswers(d: Double, n: number): Promise<void> {
  const { text } = findingsAnswer(REALISTIC.tokens);
  for (let i = 0; i < n; i += 32) {
    await Promise.all(Array.from({ length: Math.min(32, n - i) }, () => doubleControl(d, 'responses', { text })));
  }
}

interface Sut {
  child: ChildProcess;
  ready: SutReady;
}

function sutEnv(extra: Record<string, string>): Record<string, string | undefined> {
  return {
    ...process.env,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    NODE_ENV: 'production',
    GATEWAY_PORT: '0',
    CDS_HOOKS_PORT: '0',
    INFERENCE_PROXY_PORT: '0',
    BIND_HOST: '127.0.0.1',
    // A per-client rate limit (default 20/s) would be the first thing measured: lifted for the benchmark.
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
    // Likewise the per-source limit before authentication (default 50/s): every benchmark call comes from 127.0.0.1.
    EDGE_RATE_LIMIT_PER_SECOND: '100000',
    EDGE_RATE_LIMIT_BURST: '100000',
    EDGE_MAX_CONNECTIONS_PER_SOURCE: '100000',
    // The double has no GPU to protect: let the proxy send it everything (defaults 4 / 16 / 8 protect a real pool).
    INFERENCE_CONCURRENCY: '256',
    INFERENCE_QUEUE_CAPACITY: '10000',
    BACKEND_MAX_OUTSTANDING: '1024',
    FACADE_API_KEYS: FACADE_KEY,
    BENCH_DEV_CLIENT_DIR: join(tmpdir(), `meditron-bench-dev-client-${process.pid}`),
    ...extra,
  };
}

async function startSut(env: Record<string, string | undefined>, execArgv: string[] = []): Promise<Sut> {
  const child = forkTs('sut.ts', env, { execArgv });
  const ready = await waitReady<SutReady>(child, 120_000, 'system under test');
  return { child, ready };
}

// ---------------------------------------------------------------------------------------------------------------
// Load steps

const load = new LoadGenerator();

function hookJob(
  sut: Sut,
  o: {
    name: string;
    hook: 'patient-view' | 'order-sign';
    vary: boolean;
    seed: number;
    rate?: number;
    connections: number;
    durationS?: number;
    mode?: 'open' | 'closed';
  },
): LoadJob {
  const service = o.hook === 'patient-view' ? 'meditron-patient-view' : 'meditron-order-sign';
  const path = `/cds-services/${service}`;
  return {
    name: o.name,
    origin: sut.ready.gatewayUrl,
    paths: [path],
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    },
    auth: { kind: 'ehr', key: sut.ready.key, audience: `${sut.ready.publicBaseUrl}${path}` },
    body: { kind: 'hook', hook: o.hook, vary: o.vary, seed: o.seed },
    mode: o.mode ?? 'open',
    ...(o.rate !== undefined ? { rate: o.rate } : {}),
    connections: o.connections,
    durationS: o.durationS ?? STEP_S,
    timeoutMs: 15_000,
    inspectCards: true,
  };
}

let seedCounter = 1;

async function hookStep(
  p: PartRecord,
  sut: Sut,
  double: Double | undefined,
  o: {
    series: string;
    hook: 'patient-view' | 'order-sign';
    rate?: number;
    connections: number;
    profile: 'zero' | 'realistic';
    modelMs: number;
    vary?: boolean;
    mode?: 'open' | 'closed';
    durationS?: number;
  },
): Promise<StepRecord> {
  const vary = o.vary ?? true;
  const name = `${o.series} ${o.hook} ${o.mode === 'closed' ? `c=${o.connections}` : `${o.rate}/s`}`;
  if (double && o.profile === 'realistic' && vary) {
    await enqueueAnswers(double, Math.ceil((o.rate ?? 50) * (o.durationS ?? STEP_S) * 1.2) + 20);
  }
  const before = double ? await doubleStats(double) : null;
  const sampler = sampleRss({ sut: sut.child.pid, double: double?.child.pid, load: load.pid });
  const r = await load.run(hookJob(sut, { ...o, name, vary, seed: seedCounter++ }));
  const rss = sampler.stop();
  const after = double ? await doubleStats(double) : null;
  const over = (v: number): number => round(Math.max(0, v - o.modelMs));
  const offered = o.rate ?? null;
  const saturated =
    r.errors > 0 ||
    r.emptyCards > 0 ||
    (offered !== null && r.throughputRps < offered * 0.9) ||
    r.latencyMs.p99 > o.modelMs + 2000;
  const step: StepRecord = {
    ...r,
    series: o.series,
    hook: o.hook,
    modelProfile: o.profile,
    modelMs: round(o.modelMs),
    overheadMs: { p50: over(r.latencyMs.p50), p95: over(r.latencyMs.p95), p99: over(r.latencyMs.p99) },
    rssMb: rss,
    modelCalls: before && after ? after.received - before.received : null,
    saturated,
  };
  p.steps.push(step);
  log(
    `  ${name}: ${r.throughputRps} req/s, p50 ${r.latencyMs.p50} p95 ${r.latencyMs.p95} p99 ${r.latencyMs.p99} ms, ` +
      `errors ${r.errors}, empty ${r.emptyCards}, model calls ${step.modelCalls}, sut rss peak ${rss.sut?.peakRssMb ?? '?'} MB`,
  );
  return step;
}

/** Rising offered load until errors or saturation. */
async function ramp(
  p: PartRecord,
  sut: Sut,
  double: Double,
  series: string,
  profile: 'zero' | 'realistic',
  modelMs: number,
  rates: number[],
): Promise<void> {
  for (const rate of rates) {
    const expectS = (modelMs + 200) / 1000;
    const connections = Math.min(1000, Math.max(16, Math.ceil(rate * expectS * 3)));
    const s = await hookStep(p, sut, double, { series, hook: 'patient-view', rate, connections, profile, modelMs });
    if (s.saturated) {
      p.notes.push(
        `${series}: stopped rising at ${rate}/s (errors ${s.errors}, empty cards ${s.emptyCards}, ` +
          `achieved ${s.throughputRps}/s, p99 ${s.latencyMs.p99} ms)`,
      );
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The double's own time per generation at a profile, measured by calling it directly (low load). */
async function calibrateDouble(d: Double, profile: 'zero' | 'realistic'): Promise<{ p50: number; mean: number }> {
  const body = JSON.stringify({
    model: 'meditron-70b',
    prompt: 'calibration <|im_start|>user P1 ... <|im_end|>',
    max_tokens: 400,
    response_format: { type: 'json_object' },
  });
  const n = profile === 'zero' ? 40 : 8;
  if (profile === 'realistic') await enqueueAnswers(d, n);
  const times: number[] = [];
  for (let i = 0; i < n; i += 4) {
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const s = performance.now();
        const res = await fetch(`${d.baseUrl}/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.text();
        times.push(performance.now() - s);
      }),
    );
  }
  const sum = summarize(times);
  return { p50: sum.p50, mean: sum.mean };
}

async function warmUp(sut: Sut, hook: 'patient-view' | 'order-sign' = 'patient-view'): Promise<void> {
  const deadline = Date.now() + 60_000;
  // Kafka mode: the consumer joins its group a few seconds after boot; wait for a first answer with cards.
  while (Date.now() < deadline) {
    const r = await load.run(
      hookJob(sut, {
        name: 'warm-up',
        hook,
        vary: true,
        seed: 900 + seedCounter++,
        rate: 5,
        connections: 8,
        durationS: 1,
      }),
    );
    if (r.errors === 0 && r.emptyCards === 0) break;
    await new Promise((res) => setTimeout(res, 1000));
  }
  await load.run(
    hookJob(sut, {
      name: 'warm-up',
      hook,
      vary: true,
      seed: 900 + seedCounter++,
      rate: 20,
      connections: 16,
      durationS: 3,
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Parts

const ZERO_RATES = QUICK ? [10, 50, 100] : [10, 25, 50, 100, 150, 200, 300, 400];
const REAL_RATES = QUICK ? [10, 50] : [10, 25, 50, 100, 150];

async function singleProcessPostgres(p: PartRecord): Promise<void> {
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  let portkey: ChildProcess | undefined;
  let double2: Double | undefined;
  try {
    db = await createTestDatabase('bench_hooks');
    double = await startDouble();
    sut = await startSut(sutEnv({ DATABASE_URL: db.url, INFERENCE_BACKENDS: `vllm=${double.baseUrl}` }));
    p.notes.push(`database: fresh Postgres database ${db.name}; transport: ${sut.ready.mode.transport}`);
    const zero = await calibrateDouble(double, 'zero');
    await doubleControl(double, 'latency', { ttftMs: REALISTIC.ttftMs, perTokenMs: REALISTIC.perTokenMs });
    const real = await calibrateDouble(double, 'realistic');
    await doubleControl(double, 'latency', ZERO);
    p.extra.doubleOwnTimeMs = {
      zero,
      realistic: real,
      nominalRealistic: REALISTIC.ttftMs + REALISTIC.tokens * REALISTIC.perTokenMs,
    };
    await warmUp(sut);

    await ramp(p, sut, double, 'single/pg model 0 ms', 'zero', 0, ZERO_RATES);
    await hookStep(p, sut, double, {
      series: 'single/pg model 0 ms',
      hook: 'order-sign',
      rate: 50,
      connections: 32,
      profile: 'zero',
      modelMs: 0,
    });
    await hookStep(p, sut, double, {
      series: 'single/pg model 0 ms closed',
      hook: 'patient-view',
      connections: 32,
      mode: 'closed',
      profile: 'zero',
      modelMs: 0,
      rate: 600,
    });

    await doubleControl(double, 'latency', { ttftMs: REALISTIC.ttftMs, perTokenMs: REALISTIC.perTokenMs });
    await ramp(p, sut, double, 'single/pg model 300+10x150', 'realistic', real.p50, REAL_RATES);
    await hookStep(p, sut, double, {
      series: 'single/pg model 300+10x150',
      hook: 'order-sign',
      rate: 25,
      connections: 120,
      profile: 'realistic',
      modelMs: real.p50,
    });

    // Repeat path: the same context again; the model is slow, so anything not served from the cache shows.
    await enqueueAnswers(double, 5);
    await load.run(
      hookJob(sut, {
        name: 'prime',
        hook: 'patient-view',
        vary: false,
        seed: 0,
        rate: 1,
        connections: 1,
        durationS: 1,
      }),
    );
    for (const rate of QUICK ? [50] : [50, 200]) {
      await hookStep(p, sut, double, {
        series: 'cache hit (repeat)',
        hook: 'patient-view',
        rate,
        connections: 64,
        profile: 'realistic',
        modelMs: 0,
        vary: false,
      });
    }
    await doubleControl(double, 'latency', ZERO);

    // Facade vs direct vs Portkey: a second double (no queued answers), same concurrency, same run.
    double2 = await startDouble();
    portkey = await startPortkey(p).catch((e: unknown) => {
      p.notes.push(`Portkey not run: ${errorText(e)}`);
      return undefined;
    });
    p.extra.facade = await facadeComparison(p, sut, double2, portkey ? PORTKEY_PORT : undefined);
  } finally {
    await stopChild(portkey);
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await stopChild(double2?.child);
    await db?.drop().catch(() => undefined);
  }
}

const PORTKEY_PORT = 18787;

async function startPortkey(p: PartRecord): Promise<ChildProcess> {
  const entry = join(REPO_DIR, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  const child = await spawnService(
    process.execPath,
    [entry, `--port=${PORTKEY_PORT}`, '--headless'],
    async () => (await fetch(`http://127.0.0.1:${PORTKEY_PORT}/`)).status < 500,
    30_000,
  );
  p.notes.push(
    `Portkey gateway ${packageVersion('@portkey-ai/gateway')} on 127.0.0.1:${PORTKEY_PORT} (provider openai, custom host = the double)`,
  );
  return child;
}

interface FacadeRow {
  target: string;
  connections: number;
  result: LoadResult;
  overheadP50: number | null;
  overheadP99: number | null;
}

async function facadeComparison(
  p: PartRecord,
  sut: Sut,
  d: Double,
  portkeyPort: number | undefined,
): Promise<FacadeRow[]> {
  const chat = JSON.stringify({
    model: 'meditron-70b',
    messages: [{ role: 'user', content: 'Summarise the renal dosing considerations for metformin in two sentences.' }],
    max_tokens: 64,
  });
  const targets: Array<{ target: string; origin: string; path: string; headers: Record<string, string> }> = [
    { target: 'direct (model double)', origin: d.url, path: '/v1/chat/completions', headers: {} },
    {
      target: 'inference-proxy facade',
      origin: sut.ready.inferenceProxyUrl,
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${FACADE_KEY}` },
    },
  ];
  if (portkeyPort) {
    targets.push({
      target: '@portkey-ai/gateway',
      origin: `http://127.0.0.1:${portkeyPort}`,
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer unused', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': d.baseUrl },
    });
  }
  // The facade relays to the proxy's backend pool: point that pool at this double for the comparison.
  const rows: FacadeRow[] = [];
  for (const connections of QUICK ? [16] : [16, 64]) {
    for (const t of targets) {
      const r = await load.run({
        name: `${t.target} c=${connections}`,
        origin: t.origin,
        paths: [t.path],
        method: 'POST',
        headers: { 'content-type': 'application/json', ...t.headers },
        auth: { kind: 'none' },
        body: { kind: 'static', text: chat },
        mode: 'closed',
        connections,
        durationS: STEP_S,
        timeoutMs: 10_000,
      });
      rows.push({ target: t.target, connections, result: r, overheadP50: null, overheadP99: null });
      log(
        `  ${t.target} c=${connections}: ${r.throughputRps} req/s p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} errors ${r.errors} ${r.firstError ?? ''}`,
      );
    }
  }
  for (const row of rows) {
    const direct = rows.find((r) => r.connections === row.connections && r.target.startsWith('direct'));
    if (!direct || row === direct) continue;
    row.overheadP50 = round(row.result.latencyMs.p50 - direct.result.latencyMs.p50);
    row.overheadP99 = round(row.result.latencyMs.p99 - direct.result.latencyMs.p99);
  }
  p.notes.push(
    'The facade targets the proxy whose backend pool is the hook double; the direct and Portkey rows hit a second, identical double process. ' +
      'Overhead = p50/p99 through the proxy minus p50/p99 direct at the same concurrency.',
  );
  return rows;
}

async function pglite(p: PartRecord): Promise<void> {
  let double: Double | undefined;
  let sut: Sut | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'meditron-bench-pglite-'));
  try {
    double = await startDouble();
    sut = await startSut(sutEnv({ INFERENCE_BACKENDS: `vllm=${double.baseUrl}`, BENCH_PGLITE_DIR: dir }));
    p.notes.push(`database: ${sut.ready.mode.database} (PGlite, one multiplexed connection; pools of 4)`);
    p.extra.doubleOwnTimeMs = { zero: await calibrateDouble(double, 'zero') };
    await warmUp(sut);
    await ramp(p, sut, double, 'single/PGlite model 0 ms', 'zero', 0, QUICK ? [10, 50] : [10, 25, 50, 100, 150]);
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function kafkaMode(p: PartRecord): Promise<void> {
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  let kafka: MockKafka | undefined;
  try {
    kafka = await startMockKafka({
      brokers: 1,
      topics: [
        { name: Topics.inferenceRequests, partitions: 3 },
        { name: Topics.inferenceRequestsDeadLetter, partitions: 1 },
      ],
    });
    db = await createTestDatabase('bench_kafka');
    double = await startDouble();
    sut = await startSut(
      sutEnv({
        DATABASE_URL: db.url,
        INFERENCE_BACKENDS: `vllm=${double.baseUrl}`,
        KAFKA_BROKERS: kafka.bootstrapServers.join(','),
        KAFKA_MAX_WAIT_MS: String(fastKafkaConsumerConfig.maxWaitTimeInMs),
        KAFKA_SESSION_TIMEOUT_MS: String(fastKafkaConsumerConfig.sessionTimeout),
        KAFKA_HEARTBEAT_MS: String(fastKafkaConsumerConfig.heartbeatInterval),
      }),
    );
    p.notes.push(
      `transport: ${sut.ready.mode.transport} (librdkafka mock cluster, 1 broker, 3 partitions; KAFKA_MAX_WAIT_MS=${fastKafkaConsumerConfig.maxWaitTimeInMs}: the mock answers an idle fetch only after the full wait)`,
    );
    const zero = await calibrateDouble(double, 'zero');
    await doubleControl(double, 'latency', { ttftMs: REALISTIC.ttftMs, perTokenMs: REALISTIC.perTokenMs });
    const real = await calibrateDouble(double, 'realistic');
    p.extra.doubleOwnTimeMs = { zero, realistic: real };
    await doubleControl(double, 'latency', ZERO);
    await warmUp(sut);
    await ramp(p, sut, double, 'kafka/pg model 0 ms', 'zero', 0, QUICK ? [10, 50] : [10, 25, 50, 100, 150, 200, 300]);
    await doubleControl(double, 'latency', { ttftMs: REALISTIC.ttftMs, perTokenMs: REALISTIC.perTokenMs });
    await ramp(p, sut, double, 'kafka/pg model 300+10x150', 'realistic', real.p50, QUICK ? [25] : [25, 50, 100]);
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await kafka?.stop().catch(() => undefined);
    await db?.drop().catch(() => undefined);
  }
}

async function cpuProfile(p: PartRecord): Promise<void> {
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'meditron-bench-prof-'));
  try {
    db = await createTestDatabase('bench_prof');
    double = await startDouble();
    sut = await startSut(sutEnv({ DATABASE_URL: db.url, INFERENCE_BACKENDS: `vllm=${double.baseUrl}` }), [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
    ]);
    await warmUp(sut);
    await hookStep(p, sut, double, {
      series: 'profiled single/pg 0 ms',
      hook: 'patient-view',
      rate: 100,
      connections: 32,
      profile: 'zero',
      modelMs: 0,
    });
    await stopChild(sut.child);
    sut = undefined;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile written');
    results.profile = summarizeProfile(join(dir, file), 25);
    p.notes.push(
      'node --cpu-prof on the system-under-test process: boot, warm-up and 10 s at 100 patient-view hooks/s (model 0 ms).',
    );
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await db?.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function audit(p: PartRecord): Promise<void> {
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  let idp: JwksServer | undefined;
  try {
    db = await createTestDatabase('bench_audit');
    await runMigrations(db.url);
    const gen: AuditGeneration = await generateAuditRows(db.url, AUDIT_ROWS, (m) => log(`  ${m}`));
    p.extra.generation = gen;
    p.extra.sqlBaseline = await sqlBaseline(db.url, gen);

    idp = await new JwksServer().start();
    const key = await makeTestKey('RS256');
    const jwksUrl = idp.publish('/certs', [key.publicJwk]);
    const iss = 'https://idp.bench.test/realms/meditron';
    const aud = 'meditron-gateway';
    double = await startDouble();
    sut = await startSut(
      sutEnv({
        DATABASE_URL: db.url,
        INFERENCE_BACKENDS: `vllm=${double.baseUrl}`,
        STAFF_OIDC_ISSUER: iss,
        STAFF_OIDC_JWKS_URL: jwksUrl,
        STAFF_OIDC_AUDIENCE: aud,
      }),
    );
    const token = await signToken(key, {
      issuer: iss,
      audience: aud,
      expIn: 3000,
      extraClaims: { sub: 'bench-auditor', roles: ['compliance'] },
    });
    const base = (name: string, paths: string[], rate: number): LoadJob => ({
      name,
      origin: sut!.ready.gatewayUrl,
      paths,
      method: 'GET',
      headers: {},
      auth: { kind: 'bearer', token },
      body: { kind: 'none' },
      mode: 'open',
      rate,
      connections: 32,
      durationS: STEP_S,
      timeoutMs: 30_000,
    });
    const searches: Record<string, string[]> = {
      'by patient': gen.samplePatients.map(
        (pt) => `/compliance/audit-events?patient=${encodeURIComponent(pt)}&limit=50`,
      ),
      'by time range (1 h)': gen.sampleWindows.map(
        ([from, to]) =>
          `/compliance/audit-events?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=50`,
      ),
      'by client + action': gen.sampleClients.map(
        (c, i) =>
          `/compliance/audit-events?client=${c}&action=${['hook.answered', 'fhir.read', 'auth.refused'][i % 3]!}&limit=50`,
      ),
      'by patient + time range (30 d)': gen.samplePatients.map(
        (pt, i) =>
          `/compliance/audit-events?patient=${encodeURIComponent(pt)}&from=${encodeURIComponent(gen.sampleWindows[i % gen.sampleWindows.length]![0])}&limit=50`,
      ),
    };
    // Warm-up: the JWKS fetch and first plans.
    await load.run(base('warm-up', searches['by patient']!.slice(0, 20), 10));
    const rows: Array<{
      search: string;
      result: LoadResult;
      rssMb: Record<string, { peakRssMb: number; hwmMb: number }>;
    }> = [];
    for (const [search, paths] of Object.entries(searches)) {
      for (const rate of [10, 50]) {
        const sampler = sampleRss({ sut: sut.child.pid });
        const r = await load.run(base(`audit search ${search} ${rate}/s`, paths, rate));
        rows.push({ search: `${search} @ ${rate}/s`, result: r, rssMb: sampler.stop() });
        log(
          `  audit ${search} ${rate}/s: p50 ${r.latencyMs.p50} p95 ${r.latencyMs.p95} p99 ${r.latencyMs.p99} ms, errors ${r.errors} ${r.firstError ?? ''}`,
        );
      }
    }
    p.extra.searches = rows;
    // Export throughput: NDJSON and CSV of a 7-day window (~78k rows at 1M over 90 days), and one client's month.
    const exports: Array<Record<string, unknown>> = [];
    const [from7, to7] = gen.exportWindow;
    for (const [label, q] of [
      ['7 days, NDJSON', `from=${encodeURIComponent(from7)}&to=${encodeURIComponent(to7)}&format=ndjson`],
      ['7 days, CSV', `from=${encodeURIComponent(from7)}&to=${encodeURIComponent(to7)}&format=csv`],
      ['one patient (hot), NDJSON', `patient=${encodeURIComponent(gen.samplePatients[0]!)}&format=ndjson`],
    ] as const) {
      const sampler = sampleRss({ sut: sut.child.pid });
      const s = performance.now();
      const res = await fetch(`${sut.ready.gatewayUrl}/compliance/audit-events/export?${q}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      let bytes = 0;
      let lines = 0;
      let firstByteMs = 0;
      if (res.body) {
        for await (const chunk of res.body) {
          if (bytes === 0) firstByteMs = performance.now() - s;
          bytes += chunk.length;
          for (const b of chunk) if (b === 10) lines++;
        }
      }
      const ms = performance.now() - s;
      const rows = label.includes('CSV') ? lines - 1 : lines;
      const row = {
        export: label,
        status: res.status,
        rows,
        mb: round(bytes / 1048576),
        seconds: round(ms / 1000),
        rowsPerS: Math.round(rows / (ms / 1000)),
        mbPerS: round(bytes / 1048576 / (ms / 1000)),
        firstByteMs: round(firstByteMs),
        rssMb: sampler.stop(),
      };
      exports.push(row);
      log(
        `  export ${label}: ${rows} rows in ${row.seconds} s (${row.rowsPerS} rows/s, ${row.mbPerS} MB/s), status ${res.status}`,
      );
    }
    p.extra.exports = exports;
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await idp?.close();
    await db?.drop().catch(() => undefined);
  }
}

async function soak(p: PartRecord): Promise<void> {
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  try {
    db = await createTestDatabase('bench_soak');
    double = await startDouble();
    sut = await startSut(sutEnv({ DATABASE_URL: db.url, INFERENCE_BACKENDS: `vllm=${double.baseUrl}` }));
    await warmUp(sut);
    const samples: Array<{ s: number; rssMb: number }> = [];
    const s0 = Date.now();
    const timer = setInterval(() => {
      const r = rssOf(sut!.child.pid);
      if (r) samples.push({ s: Math.round((Date.now() - s0) / 1000), rssMb: r.rssMb });
    }, 10_000);
    const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
    // Moderate load: 50 hooks/s, model 0 ms, in one-minute steps (token pools stay small).
    for (let m = 0; m < minutes; m++) {
      await hookStep(p, sut, double, {
        series: 'soak 50/s',
        hook: 'patient-view',
        rate: 50,
        connections: 32,
        profile: 'zero',
        modelMs: 0,
        durationS: 60,
      });
    }
    clearInterval(timer);
    const n = samples.length;
    const xs = samples.map((x) => x.s);
    const ys = samples.map((x) => x.rssMb);
    const mx = xs.reduce((a, b) => a + b, 0) / (n || 1);
    const my = ys.reduce((a, b) => a + b, 0) / (n || 1);
    const slope =
      xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / (xs.reduce((a, x) => a + (x - mx) ** 2, 0) || 1);
    p.extra.memory = { samples, slopeMbPerMin: round(slope * 60), first: ys[0], last: ys.at(-1), max: Math.max(...ys) };
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await db?.drop().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** `--report-only`: re-render results.md and the plot from results.json (overheads recomputed). */
function reloadResults(): void {
  const saved = JSON.parse(readFileSync(join(BENCH_DIR, 'results.json'), 'utf8')) as BenchResults;
  for (const part of saved.parts) {
    part.steps = part.steps.map((s) => {
      const modelMs = s.modelProfile === 'zero' ? 0 : s.modelMs;
      const over = (v: number): number => round(Math.max(0, v - modelMs));
      return {
        ...s,
        modelMs,
        overheadMs: { p50: over(s.latencyMs.p50), p95: over(s.latencyMs.p95), p99: over(s.latencyMs.p99) },
      };
    });
  }
  Object.assign(results, saved);
}

async function render(): Promise<void> {
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
  const bySeries = new Map<string, Array<readonly [number, number, number]>>();
  for (const part of results.parts) {
    for (const s of part.steps) {
      if (
        s.mode !== 'open' ||
        s.offeredRps === null ||
        s.hook !== 'patient-view' ||
        s.series.startsWith('profiled') ||
        s.series.startsWith('soak')
      )
        continue;
      const list = bySeries.get(s.series) ?? [];
      list.push([s.offeredRps, s.latencyMs.p50, s.latencyMs.p99]);
      bySeries.set(s.series, list);
    }
  }
  const series: Series[] = [...bySeries.entries()].map(([label, points], i) => ({
    label,
    points,
    color: palette[i % palette.length]!,
  }));
  try {
    const svg = latencySvg('Meditron CDS: patient-view hook latency through the gateway vs offered load', series);
    const r = await renderPng(svg, join(BENCH_DIR, 'latency-vs-load.svg'), join(BENCH_DIR, 'latency-vs-load.png'));
    results.plot = { png: 'bench/latency-vs-load.png', svg: 'bench/latency-vs-load.svg', note: r.note };
  } catch (e) {
    results.plot = { png: '', svg: '', note: `plot failed: ${errorText(e)}` };
  }
  writeFileSync(join(BENCH_DIR, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeReport(results, join(BENCH_DIR, 'results.md'));
}

async function main(): Promise<void> {
  if (args.has('--report-only')) {
    reloadResults();
    await render();
    log('re-rendered bench/results.md, bench/results.json and the plot from bench/results.json');
    return;
  }
  await collectMeta().catch((e: unknown) => (results.meta.error = errorText(e)));
  load.start();
  const min = 60_000;
  await part('hooks-single-process-postgres', (QUICK ? 5 : 9) * min, singleProcessPostgres);
  await part('cpu-profile', 2 * min, cpuProfile);
  await part('hooks-single-process-pglite', 3 * min, pglite);
  await part('hooks-kafka', 5 * min, kafkaMode);
  await part('audit-1m', (QUICK ? 4 : 8) * min, audit);
  if (SOAK) await part('soak', 14 * min, soak);
  await load.stop();
  results.totalS = Math.round((Date.now() - t0) / 1000);
  await render();
  log(`done in ${results.totalS} s: bench/results.md, bench/results.json, bench/latency-vs-load.png`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`bench failed: ${errorText(e)}`);
    try {
      writeFileSync(
        join(BENCH_DIR, 'results.json'),
        JSON.stringify({ ...results, fatal: errorText(e) }, null, 2) + '\n',
      );
      writeReport(results, join(BENCH_DIR, 'results.md'));
    } catch {
      // nothing more to do
    }
    process.exit(1);
  },
);
