/** Starting the system under test (single process or deployed), its environment, and reading its /metrics. */
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FACADE_KEY, QUICK, sleep } from './options';
import { compiledTree } from './build';
import { forkTs, REPO_DIR, waitReady } from './procs';
import { errorText } from './stats';
import { chartRuntime, type ChartRuntime } from './chart-runtime';
import { benchSutEnv } from './sut-env';
import { IDLE_GAUGES } from './pipeline-gauges';
import { LOCAL_STACK_NODE_FLAGS } from '../../tools/local-stack/runtime-flags';
import type { SutReady } from './types';

export interface Sut {
  readonly kind: 'single' | 'deployed';
  readonly child: ChildProcess;
  readonly ready: SutReady;
  /** The processes whose RSS and CPU are reported: `sut` (single) or one per app (deployed). */
  readonly pids: Record<string, number | undefined>;
  /** The Postgres database the apps use (from DATABASE_URL), whose backends' CPU each hook step reports. */
  readonly database?: string;
}

/** The database name of a DATABASE_URL (undefined without one: the embedded Postgres). */
function databaseOf(env: Record<string, string | undefined>): string | undefined {
  const url = env.DATABASE_URL;
  return url ? decodeURIComponent(new URL(url).pathname.slice(1)) || undefined : undefined;
}

/** The tree whose SUT runs (a baseline run's temporary worktree of another ref; default this tree). */
let sutRoot: string | undefined;
export function setSutRoot(root: string | undefined): void {
  sutRoot = root;
}

/** The dev EHR client's key pair of this run (removed at its end). */
export const DEV_CLIENT_DIR = join(tmpdir(), `meditron-bench-dev-client-${process.pid}`);

export function sutEnv(extra: Record<string, string>): Record<string, string | undefined> {
  return benchSutEnv({
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    FACADE_API_KEYS: FACADE_KEY,
    // The facade's per-key quota (default 60 requests / 200k tokens a minute) would be what the comparison measures.
    FACADE_REQUESTS_PER_WINDOW: '1000000',
    FACADE_TOKENS_PER_WINDOW: '1000000000',
    BENCH_DEV_CLIENT_DIR: DEV_CLIENT_DIR,
    ...extra,
  });
}

/**
 * The three apps in one process (tools/local-stack), with the V8 flags `npm start` gives it (`runtimeFlags`
 * replaces them, for a comparison of flags); `execArgv` adds more (a profiler).
 */
export async function startSut(
  env: Record<string, string | undefined>,
  execArgv: string[] = [],
  runtimeFlags: readonly string[] = LOCAL_STACK_NODE_FLAGS,
): Promise<Sut> {
  const child = forkTs('sut.ts', env, {
    execArgv: [...runtimeFlags, ...execArgv],
    ...(sutRoot ? { root: sutRoot } : {}),
  });
  const ready = await waitReady<SutReady>(child, 120_000, 'system under test');
  return { kind: 'single', child, ready, pids: { sut: child.pid }, database: databaseOf(env) };
}

/**
 * The three apps as separate processes (bench/sut-deployed.ts), from the tree compiled as the image is (falls back
 * to the swc hook, and says so, when it does not compile); env needs DATABASE_URL and KAFKA_BROKERS.
 */
export async function startDeployed(env: Record<string, string | undefined>): Promise<Sut & { how: string }> {
  let how: string;
  const dist = await compiledTree(sutRoot ?? REPO_DIR).catch((e: unknown) => {
    how = `the apps' TypeScript through the swc require hook (~35 MB RSS more per process): the build failed: ${errorText(e).slice(0, 300)}`;
    return undefined;
  });
  how ??= 'compiled JavaScript (tsc + tsc-alias, as `npm run build` and the image): node dist/apps/<app>/src/main.js';
  // This tree's supervisor starts each app with the runtime the chart renders (an older ref's may not).
  if (!sutRoot) how += `; the chart's runtime per app: ${runtimeText(await chartRuntime())}`;
  const child = forkTs(
    'sut-deployed.ts',
    { ...env, ...(dist ? { BENCH_DIST_DIR: dist } : {}) },
    sutRoot ? { root: sutRoot } : {},
  );
  const ready = await waitReady<SutReady>(child, 240_000, 'deployed system under test');
  return { kind: 'deployed', child, ready, pids: { ...ready.pids }, database: databaseOf(env), how };
}

/** `gateway NODE_OPTIONS="..." MALLOC_ARENA_MAX=2; cds-hooks ... node --no-maglev-inlining; ...` */
function runtimeText(runtime: ChartRuntime): string {
  return Object.entries(runtime)
    .map(([app, { env, nodeArgs }]) => {
      const parts = Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      if (nodeArgs.length > 0) parts.push(`node ${nodeArgs.join(' ')}`);
      return `${app} ${parts.join(' ') || '(none)'}`;
    })
    .join('; ');
}

/** Every app's metrics, summed by metric name over labels and apps (each app has its own registry). */
export async function scrapeMetrics(sut: Sut): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const base of Object.values(sut.ready.metricsUrls ?? {})) {
    if (!base) continue;
    const text = await fetch(`${base}/metrics`).then(
      (r) => (r.ok ? r.text() : ''),
      () => '',
    );
    for (const line of text.split('\n')) {
      // A labelled metric has no sample before its first observation, only its TYPE line: it reads 0 then.
      const declared = /^# TYPE (meditron_\w+) /.exec(line);
      if (declared) out.set(declared[1]!, out.get(declared[1]!) ?? 0);
      if (!line.startsWith('meditron_')) continue;
      const m = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const v = Number(m[2]);
      if (Number.isFinite(v)) out.set(m[1]!, (out.get(m[1]!) ?? 0) + v);
    }
  }
  return out;
}

/**
 * Waits until the SUT is idle: every IDLE_GAUGES gauge present reads 0 on two probes in a row, at least `minMs`
 * after the call (so a step's tail answers have landed). Gives up after `maxMs` and says what was still busy.
 */
export async function waitIdle(
  sut: Sut,
  opts: { minMs?: number; maxMs?: number } = {},
): Promise<{ waitedMs: number; idle: boolean; busy?: string }> {
  const start = Date.now();
  const minMs = opts.minMs ?? 1000;
  const maxMs = opts.maxMs ?? (QUICK ? 20_000 : 60_000);
  if (!sut.ready.metricsUrls) {
    await sleep(Math.max(minMs, 5000));
    return { waitedMs: Date.now() - start, idle: false, busy: 'no metrics listeners: fixed 5 s cool-down only' };
  }
  let quiet = 0;
  let busy = '';
  for (;;) {
    const m = await scrapeMetrics(sut);
    busy = IDLE_GAUGES.filter((g) => (m.get(g) ?? 0) > 0)
      .map((g) => `${g}=${m.get(g)}`)
      .join(', ');
    quiet = busy ? 0 : quiet + 1;
    const waited = Date.now() - start;
    if (quiet >= 2 && waited >= minMs) return { waitedMs: waited, idle: true };
    if (waited >= maxMs) return { waitedMs: waited, idle: false, busy };
    await sleep(250);
  }
}

/** Sum of every `meditron_*shed*` counter the apps expose (load shedding), or null when none exists. */
export async function shedCount(sut: Sut): Promise<{ total: number; metrics: string[] } | null> {
  const m = await scrapeMetrics(sut);
  const names = [...m.keys()].filter((k) => /^meditron_\w*shed\w*$/.test(k) && !/_(bucket|sum|count|created)$/.test(k));
  if (names.length === 0) return null;
  return { total: names.reduce((s, k) => s + (m.get(k) ?? 0), 0), metrics: names };
}
