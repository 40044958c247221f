/**
 * Overload probe (issue 17, "Overload behaves"): the single-process stack on real Postgres with the realistic model
 * double (300 ms to first token + 150 tokens x 10 ms), an open-loop burst above capacity, then a few calls at a low
 * rate to see it recover. Prints status counts, empty-card (shed or late) answers, the shed counter, p50/p99/max
 * from the scheduled start and how many answers came within the hook budget.
 *
 *   node --require ./bench/register.js bench/overload-probe.ts --rate=150 --seconds=10 [--label=before] [KEY=VALUE ...]
 *
 * KEY=VALUE pairs go to the stack's environment (e.g. HOOK_MAX_IN_FLIGHT=64). Settings match `npm run bench`'s
 * (rate limits lifted, INFERENCE_CONCURRENCY 256, INFERENCE_QUEUE_CAPACITY 10000) unless overridden.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, SignJWT } from 'jose';
import { createTestDatabase } from '@app/testing/postgres';
import { findingsAnswer, hookBodies } from './lib/payloads';
import { forkTs, stopChild, waitReady } from './lib/procs';
import { benchSutEnv } from './lib/sut-env';
import { round, summarize } from './lib/stats';
import type { EhrSigningKey, SutReady } from './lib/types';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const RATE = Number(flag('rate', '150'));
const SECONDS = Number(flag('seconds', '10'));
const LABEL = flag('label', 'probe');
const BUDGET_MS = Number(flag('budget', '4000'));
const overrides = Object.fromEntries(
  argv
    .filter((a) => !a.startsWith('--') && a.includes('='))
    .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
);
const METRICS_PORT = 19_400 + (process.pid % 500) * 3;
const SERVICE = 'meditron-patient-view';
const PATH = `/cds-services/${SERVICE}`;

const log = (m: string): void => void process.stdout.write(`[probe ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

async function control(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/_double/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`double ${path}: ${res.status}`);
}

async function enqueue(url: string, n: number): Promise<void> {
  const { text } = findingsAnswer(150);
  for (let i = 0; i < n; i += 32) {
    await Promise.all(Array.from({ length: Math.min(32, n - i) }, () => control(url, 'responses', { text })));
  }
}

async function tokens(key: EhrSigningKey, audience: string, n: number): Promise<string[]> {
  const k = await importJWK(key.privateJwk, key.alg);
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: n }, () =>
      new SignJWT({})
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .setIssuer(key.issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 900)
        .setJti(randomUUID())
        .sign(k),
    ),
  );
}

interface Burst {
  readonly sent: number;
  readonly status: Record<string, number>;
  readonly emptyCards: number;
  readonly withCards: number;
  readonly withinBudget: number;
  readonly latencyMs: ReturnType<typeof summarize>;
}

/** Open loop: request i starts at t0 + i / rate; latency from its scheduled start. */
async function burst(ready: SutReady, rate: number, seconds: number, seed: number): Promise<Burst> {
  const n = Math.max(1, Math.round(rate * seconds));
  const jwts = await tokens(ready.key, `${ready.publicBaseUrl}${PATH}`, n);
  const make = hookBodies('patient-view', true, seed);
  const bodies = Array.from({ length: n }, (_, i) => make(i));
  const url = new URL(ready.gatewayUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 4000 });
  const status: Record<string, number> = {};
  const latencies: number[] = [];
  let emptyCards = 0;
  let withCards = 0;
  const t0 = performance.now();
  await Promise.all(
    bodies.map(
      (body, i) =>
        new Promise<void>((resolve) => {
          const due = t0 + (i * 1000) / rate;
          setTimeout(
            () => {
              const req = request(
                {
                  host: url.hostname,
                  port: url.port,
                  method: 'POST',
                  path: PATH,
                  agent,
                  headers: {
                    authorization: `Bearer ${jwts[i]}`,
                    'content-type': 'application/json',
                    'content-length': String(Buffer.byteLength(body)),
                  },
                },
                (res) => {
                  const chunks: Buffer[] = [];
                  res.on('data', (c: Buffer) => chunks.push(c));
                  res.on('end', () => {
                    latencies.push(performance.now() - due);
                    const code = String(res.statusCode);
                    status[code] = (status[code] ?? 0) + 1;
                    const text = Buffer.concat(chunks).toString('utf8');
                    if (code === '200') {
                      if (/"cards"\s*:\s*\[\s*\]/.test(text)) emptyCards++;
                      else withCards++;
                    }
                    resolve();
                  });
                },
              );
              req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
              req.on('error', (e) => {
                status[`error:${e.message}`] = (status[`error:${e.message}`] ?? 0) + 1;
                resolve();
              });
              req.end(body);
            },
            Math.max(0, due - performance.now()),
          );
        }),
    ),
  );
  agent.destroy();
  return {
    sent: n,
    status,
    emptyCards,
    withCards,
    withinBudget: latencies.filter((l) => l <= BUDGET_MS).length,
    latencyMs: summarize(latencies),
  };
}

/** meditron_hooks_shed_total by reason (cds-hooks takes METRICS_PORT + 1 in the single-process stack). */
async function shedCounts(): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${METRICS_PORT + 1}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^meditron_hooks_shed_total\{[^}]*reason="([^"]+)"[^}]*\} (\S+)$/gm)) {
    out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

const WATCHED = [
  /^nodejs_eventloop_lag_p99_seconds/,
  /^meditron_cds_hook_answer_duration_seconds_(sum|count)/,
  /^meditron_audit_queue_depth/,
  /^meditron_proxy_(inflight|queue_depth|result_write_backlog)/,
  /^meditron_hooks_in_flight/,
  /^pg_pool|^meditron_db_pool/,
];

/** Selected series of the three apps' metrics (gateway, cds-hooks, proxy take METRICS_PORT + 0, 1, 2). */
async function sample(): Promise<string[]> {
  const texts = await Promise.all(
    [0, 1, 2].map((o) =>
      fetch(`http://127.0.0.1:${METRICS_PORT + o}/metrics`)
        .then((r) => r.text())
        .catch(() => ''),
    ),
  );
  return texts.flatMap((t, o) =>
    t
      .split('\n')
      .filter((l) => WATCHED.some((w) => w.test(l)))
      .map((l) => `${o}:${l}`),
  );
}

async function main(): Promise<void> {
  const db = await createTestDatabase(`probe_overload_${process.pid}`);
  const double = forkTs('double.ts', { ...process.env });
  const d = await waitReady<{ type: string; url: string; baseUrl: string }>(double, 30_000, 'model double');
  const sut = forkTs(
    'sut.ts',
    benchSutEnv({
      LOG_LEVEL: 'warn',
      METRICS_PORT: String(METRICS_PORT),
      DEV_IDP_PORT: '0',
      BENCH_DEV_CLIENT_DIR: join(tmpdir(), `meditron-probe-dev-client-${process.pid}`),
      DATABASE_URL: db.url,
      INFERENCE_BACKENDS: `vllm=${d.baseUrl}`,
      ...overrides,
    }),
  );
  try {
    const ready = await waitReady<SutReady>(sut, 120_000, 'system under test');
    await control(d.url, 'latency', { ttftMs: 300, perTokenMs: 10 });
    await enqueue(d.url, 40);
    const warm = await burst(ready, 10, 2, 1);
    log(`warm-up: ${JSON.stringify(warm.status)}, cards ${warm.withCards}`);
    await new Promise((r) => setTimeout(r, 3000));
    await enqueue(d.url, Math.ceil(RATE * SECONDS * 1.2) + 20);
    const before = await shedCounts();
    const samples: string[][] = [];
    const sampler = setInterval(() => void sample().then((x) => samples.push(x)), 2500);
    const b = await burst(ready, RATE, SECONDS, 2);
    clearInterval(sampler);
    if (process.env.PROBE_SAMPLES) for (const x of samples) log(x.join(' | '));
    const afterCounts = await shedCounts();
    const shed = Object.fromEntries(Object.entries(afterCounts).map(([k, v]) => [k, v - (before[k] ?? 0)] as const));
    // Recovery: the load drops; once the backlog has drained, calls get cards again.
    await new Promise((r) => setTimeout(r, 5000));
    const after = await burst(ready, 2, 5, 3);
    const fivexx = Object.entries(b.status)
      .filter(([c]) => c.startsWith('5'))
      .reduce((s, [, v]) => s + v, 0);
    const summary = {
      label: LABEL,
      offeredRps: RATE,
      seconds: SECONDS,
      overrides,
      burst: {
        sent: b.sent,
        status: b.status,
        fivexx,
        emptyCards: b.emptyCards,
        withCards: b.withCards,
        shedCounter: shed,
        withinBudget: `${b.withinBudget}/${b.sent}`,
        p50: round(b.latencyMs.p50),
        p99: round(b.latencyMs.p99),
        max: round(b.latencyMs.max),
      },
      recovery: { status: after.status, withCards: after.withCards, p50: round(after.latencyMs.p50) },
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await stopChild(sut);
    await stopChild(double);
    await db.drop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
