/**
 * `GWCPU_TREES=<checkout A>,<checkout B> [GWCPU_ROUNDS=2] [GWCPU_RATE=50] [GWCPU_MEASURE_S=15] node --require
 * ./bench/register.js bench/gateway-cpu.ts`: the gateway's own cost per forwarded hook, without the rest of the
 * stack. Each tree's gateway runs alone in a child process (bench/gateway-alone.ts: real Postgres for the client
 * registry and the replay table, real ES384 client JWTs minted per request by the load generator, LOG_LEVEL info)
 * and forwards patient-view hooks to a stand-in for cds-hooks in this process that answers at once with a fixed
 * card. A tree may name its log level after a `#` (`/work/main#warn`; default info). A/B/A/B; per run: the gateway process's CPU ms per hook (user + system, /proc), its main thread's share, and
 * the client's latency (which is the gateway's overhead plus loopback and the stand-in's near-zero time).
 * GWCPU_STAGES=1: also the wall time of each stage inside the gateway (bench/gateway-alone.ts), medians per run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { EhrClient } from '@app/clients';
import { makeTestKey } from '../test/support/ehr-tokens';
import { LoadGenerator, stopChild, waitReady } from './lib/procs';
import type { LoadJob } from './lib/types';
import { cpuSecondsOf, mainThreadCpuSeconds } from './lib/usage';

const CARD = JSON.stringify({
  cards: [
    {
      uuid: '0b5a3c2e-8f8e-4a59-9a55-7a3f1c0d5e11',
      summary: 'Stand-in card from the benchmark',
      indicator: 'info',
      detail: 'x'.repeat(600),
      source: { label: 'Meditron CDS (stand-in)' },
    },
  ],
});

function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(CARD));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Run {
  readonly tree: string;
  readonly cpuMsPerHook: number;
  readonly mainThreadCpuMsPerHook: number;
  readonly achieved: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
}

async function once(
  spec: string,
  upstream: string,
  client: EhrClient,
  key: LoadJob['auth'],
  rate: number,
  measureS: number,
): Promise<Run> {
  const [tree = spec, level = 'info'] = spec.split('#');
  const load = new LoadGenerator();
  const gw: ChildProcess = fork(join(__dirname, 'gateway-alone.ts'), [], {
    cwd: tree,
    env: {
      ...process.env,
      GWCPU_TREE: tree,
      GWCPU_LOG_LEVEL: level,
      GWCPU_UPSTREAM: upstream,
      GWCPU_CLIENT: JSON.stringify(client),
      NODE_ENV: 'production',
    },
    execArgv: [
      '--require',
      join(tree, 'bench', 'register.js'),
      ...(process.env.GWCPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.GWCPU_PROF_DIR}`] : []),
    ],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  try {
    const ready = await waitReady<{ type: string; url: string; publicBaseUrl: string }>(gw, 120_000, 'gateway');
    const path = '/cds-services/meditron-patient-view';
    const job = (name: string, r: number, durationS: number, seed: number): LoadJob => ({
      name,
      origin: ready.url,
      paths: [path],
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      auth: key.kind === 'ehr' ? { ...key, audience: `${ready.publicBaseUrl}${path}` } : key,
      body: { kind: 'hook', hook: 'patient-view', vary: true, seed },
      mode: 'open',
      rate: r,
      connections: 64,
      durationS,
      timeoutMs: 15_000,
      inspectCards: true,
    });
    await load.run(job('warm', Math.min(rate, 50), 6, 1));
    await new Promise((r) => setTimeout(r, 2000));
    const before = cpuSecondsOf(gw.pid)!;
    const mainBefore = mainThreadCpuSeconds(gw.pid!);
    const r = await load.run(job('measure', rate, measureS, 2));
    const after = cpuSecondsOf(gw.pid)!;
    const mainAfter = mainThreadCpuSeconds(gw.pid!);
    if (process.env.GWCPU_STAGES === '1') {
      const stages = new Promise<unknown>((resolve) =>
        gw.on('message', (m: { type?: string; stages?: unknown }) => m.type === 'stages' && resolve(m.stages)),
      );
      gw.send('stages');
      process.stdout.write(`stages ${spec}: ${JSON.stringify(await stages)}\n`);
    }
    const answered = Math.max(1, r.completed);
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      tree: spec,
      cpuMsPerHook: round(((after - before) * 1000) / answered),
      mainThreadCpuMsPerHook: round(((mainAfter - mainBefore) * 1000) / answered),
      achieved: r.throughputRps,
      errors: r.errors,
      p50: r.latencyMs.p50,
      p99: r.latencyMs.p99,
    };
  } finally {
    await load.stop();
    await stopChild(gw);
  }
}

async function main(): Promise<void> {
  const trees = (process.env.GWCPU_TREES ?? join(__dirname, '..')).split(',');
  const rounds = Number(process.env.GWCPU_ROUNDS ?? 2);
  const rate = Number(process.env.GWCPU_RATE ?? 50);
  const measureS = Number(process.env.GWCPU_MEASURE_S ?? 15);
  const upstream = await startUpstream();
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const k = await makeTestKey('ES384');
  const issuer = 'https://ehr.bench.example';
  const client: EhrClient = {
    id: 'bench-ehr',
    issuer,
    tenant: 'bench',
    jwks: { keys: [{ ...k.publicJwk }] },
    allowedJku: [],
    services: ['*'],
    fhirBaseUrls: [],
  } as unknown as EhrClient;
  const auth: LoadJob['auth'] = {
    kind: 'ehr',
    key: { kid: k.kid, alg: k.alg, privateJwk: k.privateJwk, issuer },
    audience: '',
  };
  const runs: Run[] = [];
  for (let i = 0; i < rounds; i++)
    for (const tree of trees) {
      const run = await once(tree, upstreamUrl, client, auth, rate, measureS);
      runs.push(run);
      process.stdout.write(`${JSON.stringify(run)}\n`);
    }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  for (const tree of trees) {
    const mine = runs.filter((r) => r.tree === tree);
    const f = (sel: (r: Run) => number) => `${mine.map(sel).join(', ')} (median ${median(mine.map(sel)).toFixed(3)})`;
    process.stdout.write(
      `${tree}: CPU ms/hook ${f((r) => r.cpuMsPerHook)}; main thread ${f((r) => r.mainThreadCpuMsPerHook)}; p50 ${f((r) => r.p50)}; p99 ${f((r) => r.p99)}\n`,
    );
  }
  await new Promise<void>((r) => upstream.close(() => r()));
}
void main();
