/**
 * The system under test as deployed: the three apps as separate processes from their own entry points
 * (apps/<app>/src/main.ts), configured like the Helm chart (each its own ports, its own Postgres login, Kafka
 * between cds-hooks and the proxy, and the Node.js runtime the chart renders for it: NODE_OPTIONS with V8's heap
 * sizes, MALLOC_ARENA_MAX; bench/lib/chart-runtime.ts). This supervisor does what the chart's migration job and
 * Secrets do (schema, runtime logins, the EHR client's registration, the internal token secret), starts the apps,
 * reports their URLs, process ids and the dev EHR client's key over IPC, and stops them (SIGTERM, as Kubernetes
 * does) on 'stop'.
 * Its environment: DATABASE_URL (the owner), KAFKA_BROKERS, INFERENCE_BACKENDS and the benchmark's settings.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ClientTableStore } from '@app/clients';
import { createDataSource, runMigrations } from '@app/database';
import { appDatabaseUrls, ensureCheckpointKey } from '../tools/local-stack/database-roles';
import { chartRuntime, hostRuntime } from './lib/chart-runtime';
import { devClientRegistration, ensureDevEhrClient } from '../tools/local-stack/dev-ehr-client';
import { ensureInternalTokenSecret } from '../tools/local-stack/internal-token-secret';
import { errorText } from './lib/stats';
import type { SutMessage } from './lib/types';

const ROOT = join(__dirname, '..');
const HOST = '127.0.0.1';
const apps: Array<{ name: string; child: ChildProcess }> = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startApp(
  name: string,
  env: Record<string, string | undefined>,
  url: string,
  nodeArgs: readonly string[],
): Promise<void> {
  // Compiled (BENCH_DIST_DIR, as the image runs them), else the TypeScript through the swc hook.
  const dist = process.env.BENCH_DIST_DIR;
  // BENCH_HEAP_DIR (the soak): SIGUSR2 writes a heap snapshot of the app there.
  const heap = process.env.BENCH_HEAP_DIR
    ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${join(process.env.BENCH_HEAP_DIR, name)}`]
    : [];
  // The chart's flags first (the container's `node <flags> <entry>`), then this run's own.
  const args = dist
    ? [...nodeArgs, ...heap, join(dist, 'apps', name, 'src', 'main.js')]
    : [
        ...nodeArgs,
        ...heap,
        '--require',
        join(ROOT, 'bench', 'register.js'),
        join(ROOT, 'apps', name, 'src', 'main.ts'),
      ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  apps.push({ name, child });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-3000);
  });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${stderr}`);
    const ok = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} not ready within 90 s: ${stderr}`);
}

async function stopAll(): Promise<void> {
  // The gateway first (no new calls), then cds-hooks, then the proxy: the order a rolling shutdown drains in.
  for (const { child } of [...apps].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const ownerUrl = process.env.DATABASE_URL;
  if (!ownerUrl || !process.env.KAFKA_BROKERS || !process.env.INFERENCE_BACKENDS) {
    throw new Error('sut-deployed needs DATABASE_URL, KAFKA_BROKERS and INFERENCE_BACKENDS');
  }
  const clientDir = process.env.BENCH_DEV_CLIENT_DIR ?? join(ROOT, '.local', 'bench-dev-client');
  const secretsDir = dirname(clientDir);
  await runMigrations(ownerUrl);
  const logins = await appDatabaseUrls(ownerUrl, process.env, {
    embedded: false,
    secretFile: join(secretsDir, 'database-logins.secret'),
  });
  const [gwPort, cdsPort, proxyPort, gwMetrics, cdsMetrics, proxyMetrics] = await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  );
  const publicBaseUrl = `http://localhost:${gwPort}`;
  const dev = await ensureDevEhrClient(clientDir, publicBaseUrl);
  const ds = createDataSource({ url: ownerUrl, poolSize: 1, applicationName: 'meditron-bench' });
  await ds.initialize();
  try {
    await new ClientTableStore(ds).upsert(devClientRegistration(dev));
  } finally {
    await ds.destroy();
  }
  const common = {
    ...process.env,
    ...ensureCheckpointKey(process.env, secretsDir),
    INTERNAL_TOKEN_SECRET:
      process.env.INTERNAL_TOKEN_SECRET ?? ensureInternalTokenSecret(join(secretsDir, 'internal-token.secret')),
    BIND_HOST: HOST,
    METRICS_HOST: HOST,
  };
  const url = (port: number | undefined): string => `http://${HOST}:${port}`;
  // What the chart's ConfigMaps set for the process, in place of anything this supervisor inherited.
  const rendered = hostRuntime(await chartRuntime());
  const runtime = (app: keyof typeof rendered): Record<string, string | undefined> => ({
    NODE_OPTIONS: undefined,
    LD_PRELOAD: undefined,
    MALLOC_ARENA_MAX: undefined,
    ...rendered[app].env,
  });
  await startApp(
    'inference-proxy',
    {
      ...common,
      ...runtime('inference-proxy'),
      DATABASE_URL: logins.inferenceProxy,
      INFERENCE_PROXY_PORT: String(proxyPort),
      METRICS_PORT: String(proxyMetrics),
    },
    url(proxyPort),
    rendered['inference-proxy'].nodeArgs,
  );
  await startApp(
    'cds-hooks',
    {
      ...common,
      ...runtime('cds-hooks'),
      DATABASE_URL: logins.cdsHooks,
      CDS_HOOKS_PORT: String(cdsPort),
      METRICS_PORT: String(cdsMetrics),
    },
    url(cdsPort),
    rendered['cds-hooks'].nodeArgs,
  );
  await startApp(
    'gateway',
    {
      ...common,
      ...runtime('gateway'),
      DATABASE_URL: logins.gateway,
      GATEWAY_PORT: String(gwPort),
      METRICS_PORT: String(gwMetrics),
      PUBLIC_BASE_URL: publicBaseUrl,
      CDS_HOOKS_URL: url(cdsPort),
    },
    url(gwPort),
    rendered.gateway.nodeArgs,
  );
  process.send?.({
    type: 'ready',
    gatewayUrl: url(gwPort),
    cdsHooksUrl: url(cdsPort),
    inferenceProxyUrl: url(proxyPort),
    publicBaseUrl,
    databaseUrl: ownerUrl,
    mode: { database: 'external', transport: 'kafka', model: 'backends' },
    key: { kid: dev.kid, alg: dev.alg, privateJwk: dev.privateJwk, issuer: dev.issuer },
    metricsUrls: { gateway: url(gwMetrics), cdsHooks: url(cdsMetrics), inferenceProxy: url(proxyMetrics) },
    pids: Object.fromEntries(apps.map((a) => [a.name, a.child.pid ?? 0])),
  } satisfies SutMessage);
}

let stopping = false;
const stop = (code: number): void => {
  if (stopping) return;
  stopping = true;
  void stopAll().finally(() => process.exit(code));
};
process.on('message', (m: unknown) => {
  if (m === 'stop') stop(0);
});
process.once('SIGTERM', () => stop(0));
process.once('disconnect', () => stop(0));

main().catch((e: unknown) => {
  process.send?.({ type: 'failed', error: errorText(e) } satisfies SutMessage);
  stop(1);
});
