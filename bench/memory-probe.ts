/**
 * Memory of each app as deployed: the gateway, cds-hooks and the inference proxy each in its own OS process
 * (started from the build, as `npm run start:<app>` and the Helm chart start them), on the machine's Postgres,
 * over librdkafka's mock cluster, with the model double at 0 ms in this process. Hook traffic (patient-view,
 * a distinct prompt per call) goes through the gateway with real client JWTs, open loop at a fixed rate.
 *
 *   npx node --require ./bench/register.js bench/memory-probe.ts [--rate=50] [--minutes=3] [--warmup-s=30]
 *                                                                [--snapshots] [--idle-snapshots] [--default-runtime]
 *                                                                [--node-options="..."] [--app-env=K=V,...]
 *                                                                [--model-ms=<time to first token>]
 *                                                                [--v8-flags="--flag ..."]
 *                                                                [--db-stall=<at s>:<for s>] [--no-vacuum]
 *   npx node --require ./bench/register.js bench/memory-probe.ts --compare=a.heapsnapshot,b.heapsnapshot
 *
 * Every app is preloaded with bench/memory-probe-agent.js (process.memoryUsage() every 5 s to a file) and started
 * with --heapsnapshot-signal=SIGUSR2. It reports, per app: RSS (from /proc), heapUsed, external and arrayBuffers
 * at the start and end of the measured window, the peak RSS, and each one's least-squares slope in MB/min. With
 * --snapshots it writes a heap snapshot of every app after the warm-up and at the end, and prints the constructors
 * whose self size grew most between them (--compare does the same for any two snapshot files). Writing a snapshot
 * takes native memory the process keeps (RSS jumps by ~100-200 MB): judge RSS on a run without --snapshots.
 * Each app gets the Node.js runtime the Helm chart renders for it (NODE_OPTIONS heap sizes, the jemalloc preload,
 * MALLOC_ARENA_MAX, the V8 flags on its command line: bench/lib/chart-runtime.ts); --default-runtime leaves V8's and
 * glibc's defaults instead. --node-options adds V8/Node flags to every app after the chart's (a later flag wins),
 * --app-env more environment; --v8-flags replaces the chart's command-line flags of every app (`--v8-flags=`: none),
 * for flags Node refuses in NODE_OPTIONS.
 * Every 10 s it prints the traffic since the last line: statuses, answers with cards and with none (`{"cards": []}`:
 * shed or past the deadline), p50/p99. Every 2 s it reads each app's /metrics (each on its own METRICS_PORT) and
 * appends the pipeline's gauges and counters (consumer lag, in flight, queue depths, outbox backlog, shed calls by
 * reason, hook outcomes) with the traffic's running counts to metrics.jsonl: where work stops when answers slow down.
 * The apps log at warn to <app>.log in the run directory. --db-stall=60:40 holds an exclusive lock on the
 * database's inference_outbox from the traffic's 60th second for 40 s (every hook call's first statement waits): a
 * transient database stall, to see whether the pipeline comes back once it ends.
 * Where the Postgres runs with `autovacuum = off` (this workplace's machines), a `VACUUM (SKIP_LOCKED, ANALYZE)` of
 * the database every 30 s stands in for it while the traffic runs (bench/lib/vacuum-stand-in.ts); without it every
 * row updated or deleted on the hook path stays as a dead version for the whole run, which production never sees.
 * `--no-vacuum` leaves it out (runs before 2026-12-01 had none).
 * Output: .local/memory-probe/<time>/ (result.json, metrics.jsonl, the agent's samples, the apps' logs, the snapshots).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importJWK, SignJWT } from 'jose';
import { Client } from 'pg';
import { Topics } from '@app/contracts';
import { runMigrations } from '@app/database';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { ensureAppsBuilt } from '@app/testing/app-build';
import { AppProcess, freePort, type AppName } from '@app/testing/app-process';
import { makeTestKey, type TestKey } from '@app/testing/ehr-tokens';
import { clientsFile } from '@app/testing/internal-call';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '@app/testing/kafka-broker/mock-kafka';
import { createTestDatabase, type TestDatabase } from '@app/testing/postgres';
import { runtimeUrls } from '@app/testing/runtime-roles';
import { hookBodies } from './lib/payloads';
import { chartRuntime, hostRuntime, type ChartRuntime } from './lib/chart-runtime';
import { IDLE_GAUGES } from './lib/pipeline-gauges';
import { rssOf } from './lib/procs';
import { standInAutovacuum, type VacuumStandIn } from './lib/vacuum-stand-in';

const APPS: readonly AppName[] = ['gateway', 'cds-hooks', 'inference-proxy'];
const CLIENT = { id: 'memory-probe-ehr', issuer: 'https://memory-probe.test' } as const;
const PUBLIC_BASE_URL = 'https://cds.memory-probe.test';
const SERVICE_PATH = '/cds-services/meditron-patient-view';
const MB = 1024 * 1024;

interface Options {
  readonly rate: number;
  readonly minutes: number;
  readonly warmupS: number;
  readonly snapshots: boolean;
  /** A heap snapshot of every app once it is ready, before any traffic (what it loads at start). */
  readonly idleSnapshots: boolean;
  readonly compare: readonly [string, string] | undefined;
  /** Extra environment for every app (`--app-env=K=V,K2=V2`), e.g. to compare allocator settings. */
  readonly appEnv: Record<string, string>;
  /** V8's and glibc's defaults instead of the chart's runtime settings (NODE_OPTIONS, MALLOC_ARENA_MAX). */
  readonly defaultRuntime: boolean;
  /** Extra Node options for every app (`--node-options="--max-old-space-size=128"`), after the chart's. */
  readonly nodeOptions: string;
  /** The model double's time to first token (`--model-ms=300`; default 0: the pipeline's own memory). */
  readonly modelTtftMs: number;
  /** Node's command-line flags for every app in place of the chart's (`--v8-flags=`: none); undefined: the chart's. */
  readonly v8Flags: readonly string[] | undefined;
  /** `--db-stall=<at s>:<for s>`: the outbox table locked from the traffic's <at>th second for <for> seconds. */
  readonly dbStall: { readonly atS: number; readonly forS: number } | undefined;
  /** `--no-vacuum`: no stand-in for autovacuum on a Postgres that runs without it (to reproduce earlier runs). */
  readonly noVacuum: boolean;
}

function options(argv: readonly string[]): Options {
  const arg = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ??
    (argv.includes(`--${name}`) ? '' : undefined);
  const num = (name: string, def: number): number => {
    const v = arg(name);
    const n = v === undefined ? def : Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const nonNegative = (n: number): number => {
    if (!Number.isFinite(n) || n < 0) throw new Error('--model-ms must be 0 or more');
    return n;
  };
  const compare = arg('compare')?.split(',');
  return {
    rate: num('rate', 50),
    minutes: num('minutes', 3),
    warmupS: num('warmup-s', 30),
    snapshots: arg('snapshots') !== undefined,
    idleSnapshots: arg('idle-snapshots') !== undefined,
    defaultRuntime: arg('default-runtime') !== undefined,
    compare: compare && compare.length === 2 ? [compare[0]!, compare[1]!] : undefined,
    nodeOptions: arg('node-options') ?? '',
    modelTtftMs: arg('model-ms') === undefined ? 0 : nonNegative(Number(arg('model-ms'))),
    v8Flags: arg('v8-flags')
      ?.split(/\s+/)
      .filter((f) => f !== ''),
    dbStall: dbStall(arg('db-stall')),
    noVacuum: arg('no-vacuum') !== undefined,
    appEnv: Object.fromEntries(
      (arg('app-env') ?? '')
        .split(',')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ),
  };
}

function dbStall(v: string | undefined): Options['dbStall'] {
  if (v === undefined) return undefined;
  const [atS, forS] = v.split(':').map(Number);
  if (!Number.isFinite(atS) || !Number.isFinite(forS) || atS! < 0 || forS! <= 0) {
    throw new Error('--db-stall must be <at s>:<for s>, e.g. 60:40');
  }
  return { atS: atS!, forS: forS! };
}

/**
 * A transient database stall: from `atS` after the call, a session holds ACCESS EXCLUSIVE on inference_outbox for
 * `forS` seconds (the hook path's first statement inserts there, so every call waits), then commits.
 */
async function stallDatabase(url: string, stall: NonNullable<Options['dbStall']>, log: (l: string) => void) {
  await sleep(stall.atS * 1000);
  const c = new Client({ connectionString: url, application_name: 'memory-probe-stall' });
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query('LOCK TABLE inference_outbox IN ACCESS EXCLUSIVE MODE');
    log(`db stall: inference_outbox locked for ${stall.forS} s`);
    await sleep(stall.forS * 1000);
    await c.query('COMMIT');
    log('db stall: released');
  } finally {
    await c.end();
  }
}

/** One sample of one app: RSS from /proc, the rest from the agent's last line. */
interface Sample {
  readonly t: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
  readonly externalMb: number;
  readonly arrayBuffersMb: number;
}

interface AgentLine {
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** V8's heap spaces, used and committed MB (new_space, old_space, code_space, large_object_space, ...). */
  spaces?: Record<string, { used: number; size: number }>;
  /** CPU ms of the process so far (user + system). */
  cpuMs?: number;
  /** Wall ms spent in garbage collection so far (a 'gc' PerformanceObserver): minor, major. */
  gc?: { ms: number; minorMs: number; majorMs: number; count: number };
}

function agentLines(dir: string, app: AppName): AgentLine[] {
  try {
    return readFileSync(join(dir, `${app}.jsonl`), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as AgentLine);
  } catch {
    return [];
  }
}

/** Least-squares slope of y over t (ms), in units per minute. */
function slopePerMin(points: ReadonlyArray<{ t: number; y: number }>): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60_000;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Open-loop hook traffic through the gateway: `rate` calls per second, each with a fresh JWT and hookInstance. */
class HookTraffic {
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;
  private readonly statuses = new Map<string, number>();
  /** 200 answers with at least one card, and with none (what load shedding and a missed deadline answer). */
  private cards = 0;
  private empty = 0;
  private latencies: number[] = [];
  private sampled: number[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly gatewayUrl: string,
    private readonly key: TestKey,
    private readonly rate: number,
  ) {}

  async start(): Promise<void> {
    const signingKey = await importJWK(this.key.privateJwk, this.key.alg);
    const body = hookBodies('patient-view', true, 17);
    const t0 = Date.now();
    const tick = (): void => {
      const due = Math.floor(((Date.now() - t0) / 1000) * this.rate);
      while (this.sent < due) {
        const i = this.sent++;
        const p = this.call(signingKey, body(i)).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }
    };
    this.timer = setInterval(tick, 5);
  }

  private async call(signingKey: Awaited<ReturnType<typeof importJWK>>, body: string): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.kid, typ: 'JWT' })
      .setIssuer(CLIENT.issuer)
      .setAudience(`${PUBLIC_BASE_URL}${SERVICE_PATH}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(randomBytes(16).toString('hex'))
      .sign(signingKey);
    const started = performance.now();
    let status: string;
    try {
      const res = await fetch(`${this.gatewayUrl}${SERVICE_PATH}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      status = String(res.status);
      if (res.ok) {
        if (/"cards"\s*:\s*\[\s*\]/.test(text)) this.empty++;
        else this.cards++;
      }
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
      status = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.name) : 'error';
    }
    this.latencies.push(performance.now() - started);
    this.sampled.push(performance.now() - started);
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  /** Counts and latency percentiles since the last call (then resets the latencies). */
  window(): {
    sent: number;
    statuses: Record<string, number>;
    cards: number;
    empty: number;
    p50Ms: number;
    p99Ms: number;
  } {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    this.latencies = [];
    const q = (p: number): number => r1(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN);
    return {
      sent: this.sent,
      statuses: Object.fromEntries(this.statuses),
      cards: this.cards,
      empty: this.empty,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
    };
  }

  /** Running totals, for the metrics sampler. */
  counts(): { sent: number; done: number; cards: number; empty: number; inFlight: number; p50Ms: number } {
    const done = [...this.statuses.values()].reduce((a, b) => a + b, 0);
    const sorted = this.sampled.sort((a, b) => a - b);
    this.sampled = [];
    const p50Ms = r1(sorted[Math.floor(sorted.length / 2)] ?? NaN);
    return { sent: this.sent, done, cards: this.cards, empty: this.empty, inFlight: this.inFlight.size, p50Ms };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }
}

/** Pipeline gauges (the ones the benchmark waits on before a step) and the counters that show where work stops. */
const SAMPLED_NAMES: ReadonlySet<string> = new Set([
  ...IDLE_GAUGES,
  'meditron_proxy_requests_total',
  'meditron_hooks_shed_total',
  'meditron_cds_hook_calls_total',
  'meditron_gateway_http_requests_total',
]);

/**
 * Every app's /metrics every 2 s: the series of SAMPLED_NAMES, summed over labels except `outcome`/`reason`/
 * `status`/`code`/`result`, one JSON line per sample with the traffic's counts (metrics.jsonl in the run directory).
 */
class MetricsSampler {
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = Date.now();

  constructor(
    private readonly file: string,
    private readonly ports: ReadonlyMap<AppName, number>,
    private readonly traffic: HookTraffic,
  ) {
    this.timer = setInterval(() => void this.sample(), 2_000);
  }

  private async sample(): Promise<void> {
    const t = Date.now();
    const row: Record<string, unknown> = { t, s: Math.round((t - this.t0) / 1000), traffic: this.traffic.counts() };
    await Promise.all(
      [...this.ports].map(async ([app, port]) => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1_500) });
          row[app] = sampledMetrics(await res.text());
        } catch (e) {
          row[app] = { error: e instanceof Error ? e.name : 'error' };
        }
      }),
    );
    appendFileSync(this.file, `${JSON.stringify(row)}\n`);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function sampledMetrics(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || !SAMPLED_NAMES.has(m[1]!)) continue;
    const kept = (m[2] ?? '')
      .split(',')
      .filter((l) => /^(outcome|reason|status|code|result)=/.test(l))
      .join(',');
    const key = kept ? `${m[1]}{${kept}}` : m[1]!;
    out[key] = (out[key] ?? 0) + Number(m[3]);
  }
  return out;
}

// ---- heap snapshot comparison ----

interface HeapSnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per `type:name` (for objects the name is the constructor). */
function byConstructor(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotFile;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!] ?? '?';
    const rawName =
      type === 'string' || type === 'concatenated string' || type === 'sliced string'
        ? ''
        : snap.strings[snap.nodes[i + iName]!];
    const name = (rawName ?? '').slice(0, 60);
    const key = `${type}:${name}`;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count += 1;
    e.bytes += snap.nodes[i + iSize]!;
    out.set(key, e);
  }
  return out;
}

function compareSnapshots(a: string, b: string, top = 25): string[] {
  const before = byConstructor(a);
  const after = byConstructor(b);
  const rows = [...after].map(([k, v]) => {
    const w = before.get(k) ?? { count: 0, bytes: 0 };
    return { k, dCount: v.count - w.count, dBytes: v.bytes - w.bytes, bytes: v.bytes };
  });
  rows.sort((x, y) => y.dBytes - x.dBytes);
  const total = (m: Map<string, { bytes: number }>): number => [...m.values()].reduce((s, v) => s + v.bytes, 0);
  return [
    `heap ${r1(total(before) / MB)} MB -> ${r1(total(after) / MB)} MB (self sizes)`,
    ...rows
      .slice(0, top)
      .map(
        (r) => `  ${r.dBytes >= 0 ? '+' : ''}${r1(r.dBytes / 1024)} KB  ${r.dCount >= 0 ? '+' : ''}${r.dCount}  ${r.k}`,
      ),
  ];
}

// ---- the run ----

async function run(o: Options): Promise<void> {
  const outDir = join(process.cwd(), '.local', 'memory-probe', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(outDir, { recursive: true });
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  log(`memory probe: ${o.rate} hooks/s, warm-up ${o.warmupS} s, measured ${o.minutes} min; output ${outDir}`);
  const dist = await ensureAppsBuilt();
  let kafka: MockKafka | undefined;
  let db: TestDatabase | undefined;
  let double: ModelDouble | undefined;
  let traffic: HookTraffic | undefined;
  let sampler: MetricsSampler | undefined;
  let vacuum: VacuumStandIn | undefined;
  const procs = new Map<AppName, AppProcess>();
  try {
    kafka = await startMockKafka({
      brokers: 1,
      topics: [
        { name: Topics.inferenceRequests, partitions: 3 },
        { name: Topics.inferenceRequestsDeadLetter, partitions: 1 },
      ],
    });
    db = await createTestDatabase('bench_memory');
    await runMigrations(db.url);
    const urls = await runtimeUrls(db.url);
    double = await startModelDouble({ port: 0, flavour: 'vllm', latency: { ttftMs: o.modelTtftMs, perTokenMs: 0 } });
    const key = await makeTestKey('ES384');
    const runtime: ChartRuntime | undefined = o.defaultRuntime ? undefined : hostRuntime(await chartRuntime());
    const nodeArgs = (app: AppName): readonly string[] => o.v8Flags ?? runtime?.[app].nodeArgs ?? [];
    log(`runtime: ${runtime ? `the chart's ${JSON.stringify(runtime)}` : "V8's and glibc's defaults"}`);
    if (o.v8Flags) log(`command-line flags of every app: ${JSON.stringify(o.v8Flags)} (in place of the chart's)`);
    const randomSecret = randomBytes(32).toString('base64url');
    const metricsPorts = new Map<AppName, number>();
    for (const a of APPS) metricsPorts.set(a, await freePort());
    const common = (app: AppName): Record<string, string> => ({
      METRICS_PORT: String(metricsPorts.get(app)),
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      // Small pools: the machine's Postgres is shared (max_connections 100) with tests and other runs.
      DB_POOL_SIZE: '5',
      KAFKA_BROKERS: kafka!.bootstrapServers.join(','),
      KAFKA_MAX_WAIT_MS: String(fastKafkaConsumerConfig.maxWaitTimeInMs),
      // Longer than the tests' 4 s: on a loaded machine a consumer that misses heartbeats is evicted and the
      // pipeline stalls on rebalances, which measures the mock's group handling rather than memory.
      KAFKA_SESSION_TIMEOUT_MS: '15000',
      KAFKA_HEARTBEAT_MS: String(fastKafkaConsumerConfig.heartbeatInterval),
      INTERNAL_TOKEN_SECRET: randomSecret,
      AUDIT_SPOOL_DIR: join(outDir, 'spool'),
      ...(runtime?.[app].env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: runtime[app].env.MALLOC_ARENA_MAX } : {}),
      ...(runtime?.[app].env.LD_PRELOAD ? { LD_PRELOAD: runtime[app].env.LD_PRELOAD } : {}),
      NODE_OPTIONS: [
        `--require ${join(__dirname, 'memory-probe-agent.js')} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${outDir}`,
        runtime?.[app].env.NODE_OPTIONS ?? '',
        o.nodeOptions,
      ]
        .filter((x) => x !== '')
        .join(' '),
      MEMORY_PROBE_DIR: outDir,
      MEMORY_PROBE_APP: app,
      ...o.appEnv,
    });
    const cdsClients = clientsFile([{ ...CLIENT }]);
    const gatewayClients = clientsFile([
      {
        ...CLIENT,
        tenant: 'memory-probe',
        jwks: { keys: [{ ...key.publicJwk }] },
        allowedJku: [],
        services: ['*'],
        fhirBaseUrls: [],
        rateLimit: { perSecond: 10_000, burst: 10_000 },
      },
    ]);
    const logFile = (app: AppName): string => join(outDir, `${app}.log`);
    procs.set(
      'inference-proxy',
      await AppProcess.start({
        dist,
        app: 'inference-proxy',
        logFile: logFile('inference-proxy'),
        nodeArgs: nodeArgs('inference-proxy'),
        env: {
          ...common('inference-proxy'),
          DATABASE_URL: urls.inferenceProxy,
          INFERENCE_BACKENDS: `vllm=${double.baseUrl}`,
        },
      }),
    );
    const cds = await AppProcess.start({
      dist,
      app: 'cds-hooks',
      logFile: logFile('cds-hooks'),
      nodeArgs: nodeArgs('cds-hooks'),
      env: { ...common('cds-hooks'), DATABASE_URL: urls.cdsHooks, EHR_CLIENTS_FILE: cdsClients },
    });
    procs.set('cds-hooks', cds);
    const gateway = await AppProcess.start({
      dist,
      app: 'gateway',
      logFile: logFile('gateway'),
      nodeArgs: nodeArgs('gateway'),
      env: {
        ...common('gateway'),
        DATABASE_URL: urls.gateway,
        EHR_CLIENTS_FILE: gatewayClients,
        CDS_HOOKS_URL: cds.url,
        PUBLIC_BASE_URL,
        // One load generator is one source: the per-source edge limits would refuse it (as in bench/run.ts).
        EDGE_RATE_LIMIT_PER_SECOND: '100000',
        EDGE_RATE_LIMIT_BURST: '100000',
        EDGE_MAX_CONNECTIONS_PER_SOURCE: '100000',
      },
    });
    procs.set('gateway', gateway);

    const idle = Object.fromEntries(APPS.map((a) => [a, rssOf(procs.get(a)!.pid)?.rssMb ?? NaN]));
    log(`idle RSS (MB): ${JSON.stringify(idle)}`);
    if (o.idleSnapshots) await snapshotAll(procs, outDir, 'idle');

    traffic = new HookTraffic(gateway.url, key, o.rate);
    sampler = new MetricsSampler(join(outDir, 'metrics.jsonl'), metricsPorts, traffic);
    await traffic.start();
    vacuum = o.noVacuum ? undefined : await standInAutovacuum(db.url);
    if (vacuum?.active)
      log('autovacuum is off on this Postgres: VACUUM (SKIP_LOCKED, ANALYZE) every 30 s in its place');
    const stalling = o.dbStall ? stallDatabase(db.url, o.dbStall, log) : undefined;
    stalling?.catch((e: unknown) => log(`db stall failed: ${e instanceof Error ? e.message : String(e)}`));
    await sleep(o.warmupS * 1000);
    log(`warm-up done: ${JSON.stringify(traffic.window())}`);
    if (o.snapshots) await snapshotAll(procs, outDir, 'start');
    const windowStart = Date.now();
    const rss: Record<string, Array<{ t: number; y: number }>> = Object.fromEntries(APPS.map((a) => [a, []]));
    const end = windowStart + o.minutes * 60_000;
    let interrupted = false;
    const interrupt = (): void => {
      interrupted = true;
    };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    while (Date.now() < end && !interrupted) {
      await sleep(Math.max(0, Math.min(10_000, end - Date.now())));
      const now = Date.now();
      const row: Record<string, number> = {};
      for (const a of APPS) {
        const r = rssOf(procs.get(a)!.pid)?.rssMb ?? NaN;
        rss[a]!.push({ t: now, y: r });
        row[a] = r;
      }
      log(`${Math.round((now - windowStart) / 1000)} s RSS ${JSON.stringify(row)} ${JSON.stringify(traffic.window())}`);
    }
    if (o.snapshots) await snapshotAll(procs, outDir, 'end');
    await traffic.stop();
    const load = traffic.window();
    await vacuum?.stop();
    const vacuumRuns = vacuum?.active ? vacuum.runs() : null;
    if (vacuumRuns !== null) log(`VACUUM runs during the traffic: ${vacuumRuns}`);
    const summary = APPS.map((a) => summarizeApp(a, outDir, windowStart, rss[a]!, rssOf(procs.get(a)!.pid)?.hwmMb));
    writeFileSync(
      join(outDir, 'result.json'),
      JSON.stringify({ options: o, idle, load, vacuumRuns, apps: summary }, null, 2),
    );
    log(`load: ${JSON.stringify(load)}`);
    log(
      'app  rss start->end (peak, hwm) | heapUsed | heapTotal | external | arrayBuffers (start->end, MB) | slopes MB/min: rss heapUsed external arrayBuffers',
    );
    for (const s of summary) {
      log(
        `${s.app.padEnd(16)} ${s.start.rssMb}->${s.end.rssMb} (${s.peakRssMb}, ${s.hwmMb}) | ${s.start.heapUsedMb}->${s.end.heapUsedMb} | ${s.start.heapTotalMb}->${s.end.heapTotalMb} | ${s.start.externalMb}->${s.end.externalMb} | ${s.start.arrayBuffersMb}->${s.end.arrayBuffersMb} | ${s.slopes.rss} ${s.slopes.heapUsed} ${s.slopes.external} ${s.slopes.arrayBuffers}`,
      );
      log(
        `${''.padEnd(16)} gc ${s.gc.gcMs} ms (minor ${s.gc.minorMs}, major ${s.gc.majorMs}) of cpu ${s.gc.cpuMs} ms = ${s.gc.gcPctOfCpu} % | committed MB at end: new ${s.spacesEnd.newMb} old ${s.spacesEnd.oldMb} code ${s.spacesEnd.codeMb} large ${s.spacesEnd.largeMb}`,
      );
    }
    if (o.snapshots) {
      for (const a of APPS) {
        const files = readdirSync(outDir).filter((f) => f.startsWith(`${a}-`) && f.endsWith('.heapsnapshot'));
        if (files.length === 2)
          log([`${a}:`, ...compareSnapshots(join(outDir, files[0]!), join(outDir, files[1]!))].join('\n'));
      }
    }
  } finally {
    await vacuum?.stop();
    sampler?.stop();
    await traffic?.stop();
    await Promise.all([...procs.values()].map((p) => p.stop(10_000)));
    await double?.close();
    await kafka?.stop();
    await db?.drop().catch(() => undefined);
  }
}

/** SIGUSR2 (--heapsnapshot-signal) to each app in turn; waits for its file (renamed to <app>-<label>). */
async function snapshotAll(procs: ReadonlyMap<AppName, AppProcess>, dir: string, label: string): Promise<void> {
  const { renameSync, statSync } = await import('node:fs');
  for (const [app, proc] of procs) {
    const before = new Set(readdirSync(dir));
    process.kill(proc.pid, 'SIGUSR2');
    let file: string | undefined;
    for (let i = 0; i < 600 && !file; i++) {
      await sleep(500);
      const fresh = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
      // Written in one go; done when its size stops changing.
      if (fresh) {
        const s1 = statSync(join(dir, fresh)).size;
        await sleep(1000);
        if (statSync(join(dir, fresh)).size === s1 && s1 > 0) file = fresh;
      }
    }
    if (file) renameSync(join(dir, file), join(dir, `${app}-${label}.heapsnapshot`));
  }
}

function gcShare(
  first: AgentLine | undefined,
  last: AgentLine | undefined,
): { cpuMs: number; gcMs: number; minorMs: number; majorMs: number; gcPctOfCpu: number } {
  const d = (f: (l: AgentLine) => number | undefined): number =>
    (last ? (f(last) ?? NaN) : NaN) - (first ? (f(first) ?? NaN) : NaN);
  const cpuMs = d((l) => l.cpuMs);
  const gcMs = d((l) => l.gc?.ms);
  return {
    cpuMs,
    gcMs,
    minorMs: d((l) => l.gc?.minorMs),
    majorMs: d((l) => l.gc?.majorMs),
    gcPctOfCpu: r1((100 * gcMs) / cpuMs),
  };
}

function summarizeApp(
  app: AppName,
  dir: string,
  from: number,
  rss: ReadonlyArray<{ t: number; y: number }>,
  hwmMb: number | undefined,
) {
  const lines = agentLines(dir, app).filter((l) => l.t >= from);
  const first = lines[0];
  const last = lines[lines.length - 1];
  const mb = (l: AgentLine | undefined): Omit<Sample, 't'> => ({
    rssMb: r1((l?.rss ?? NaN) / MB),
    heapUsedMb: r1((l?.heapUsed ?? NaN) / MB),
    heapTotalMb: r1((l?.heapTotal ?? NaN) / MB),
    externalMb: r1((l?.external ?? NaN) / MB),
    arrayBuffersMb: r1((l?.arrayBuffers ?? NaN) / MB),
  });
  const slope = (f: (l: AgentLine) => number): number => r1(slopePerMin(lines.map((l) => ({ t: l.t, y: f(l) / MB }))));
  return {
    app,
    start: mb(first),
    end: mb(last),
    peakRssMb: Math.max(...rss.map((p) => p.y)),
    hwmMb: hwmMb ?? NaN,
    /** Over the window: GC wall ms against CPU ms (a GC pause is wall time: on a busy machine it reads high). */
    gc: gcShare(first, last),
    /** Committed MB of V8's young and old generations at the end. */
    spacesEnd: {
      newMb: last?.spaces?.new_space?.size ?? NaN,
      oldMb: last?.spaces?.old_space?.size ?? NaN,
      codeMb: last?.spaces?.code_space?.size ?? NaN,
      largeMb: last?.spaces?.large_object_space?.size ?? NaN,
    },
    slopes: {
      rss: r1(slopePerMin(rss)),
      heapUsed: slope((l) => l.heapUsed),
      external: slope((l) => l.external),
      arrayBuffers: slope((l) => l.arrayBuffers),
    },
  };
}

const opts = options(process.argv.slice(2));
if (opts.compare) {
  process.stdout.write(`${compareSnapshots(opts.compare[0], opts.compare[1], 40).join('\n')}\n`);
} else {
  run(opts).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
