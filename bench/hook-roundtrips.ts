/**
 * Issue 17: database round trips and latency of one hook call on the real stack (tools/local-stack, real Postgres,
 * in-process bus, model double at 0 ms), called on cds-hooks directly as the gateway would (a per-call internal
 * token), so the number is the hook path's own.
 *
 * Every `pg` Client.query is one round trip (the extended protocol pipelines parse/bind/execute), so the script
 * wraps it and records, per app (application_name), the statements of a call: from the request until the call has
 * answered and its audit batch and its result write are flushed. Periodic tasks that are not the call's are left
 * out. Then `--calls` new-context calls one after another (c=1), as many at c=8, and as many repeats of one
 * context (served from its stored result) give p50/p99 latency.
 *
 *   node --require ./bench/register.js bench/hook-roundtrips.ts [--calls=200] [--json=out.json] [--list] [--kafka]
 *
 * `--kafka`: the Kafka transport on librdkafka's mock cluster instead of the in-process bus (results announced over
 * Postgres NOTIFY); its consumers' idle fetch wait (KAFKA_MAX_WAIT_MS) adds latency, so compare its counts, not its
 * latency, with the in-process run.
 *
 * Runs one tree's code per process; compare two trees by running it alternately from each (the numbers are a
 * loaded 2-core machine's: only a same-run comparison means anything).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { INTERNAL_TOKEN_HEADER } from '@app/auth';
import { hookBodies } from './lib/payloads';
import { startProbeStack } from './lib/probe-stack';

interface Statement {
  readonly app: string;
  readonly sql: string;
  readonly atMs: number;
}

const log: Statement[] = [];
let recording = false;

/** Wraps pg's Client.query once: each call is one round trip to Postgres. */
function countRoundTrips(): void {
  const proto = Client.prototype as unknown as {
    query: (...args: unknown[]) => unknown;
    connectionParameters?: { application_name?: string };
  };
  const original = proto.query;
  proto.query = function (this: typeof proto, ...args: unknown[]): unknown {
    if (recording) {
      const first = args[0];
      const sql = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '?');
      log.push({
        app: (this.connectionParameters?.application_name ?? '?').replace(/^meditron-/, ''),
        sql: sql.replace(/\s+/g, ' ').trim().slice(0, 110),
        atMs: performance.now(),
      });
    }
    return original.apply(this, args);
  };
}

/** Statements of periodic tasks (not caused by a call): listed apart. */
const PERIODIC = [/inference_outbox o SET attempts/, /model_pool_limits/, /audit_chain_head|chain_checkpoint/i];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  countRoundTrips();
  const calls = Number(arg('calls', '200'));
  const kafka = process.argv.includes('--kafka');
  const { stack, signer, stop } = await startProbeStack('roundtrips', { kafka });
  say(`transport: ${stack.mode.transport}`);
  // A repeat is the same patient-view context every time: served from the first call's stored result.
  const bodies = {
    'patient-view': hookBodies('patient-view', true, 17),
    'order-sign': hookBodies('order-sign', true, 71),
    'patient-view repeat': hookBodies('patient-view', false, 0),
  };
  type Kind = keyof typeof bodies;
  let n = 0;
  async function call(hook: Kind): Promise<number> {
    const service = hook === 'order-sign' ? 'meditron-order-sign' : 'meditron-patient-view';
    const path = `/cds-services/${service}`;
    const token = await signer.sign({
      clientId: 'local-dev-ehr',
      requestId: randomUUID(),
      serviceId: service,
      method: 'POST',
      path,
    });
    const started = performance.now();
    const res = await fetch(`${stack.cdsHooksUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token },
      body: bodies[hook](n++),
    });
    const body = (await res.json()) as { cards?: unknown[] };
    const ms = performance.now() - started;
    if (res.status !== 200 || !body.cards?.length) throw new Error(`${hook}: ${res.status} ${JSON.stringify(body)}`);
    return ms;
  }
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 400));

  try {
    // Warm-up: first-call costs (R4 definitions, pool context read, prepared paths) are not the steady state.
    for (let i = 0; i < 20; i++) await call(i % 2 ? 'order-sign' : 'patient-view');
    await call('patient-view repeat');
    await settle();

    const counts: Record<string, { total: number; byApp: Record<string, number>; statements: string[] }> = {};
    for (const hook of ['patient-view', 'order-sign', 'patient-view repeat'] as const) {
      // Three calls each, the median kept: a periodic task may land in one window.
      const runs: Statement[][] = [];
      for (let i = 0; i < 3; i++) {
        log.length = 0;
        recording = true;
        await call(hook);
        await settle();
        recording = false;
        runs.push([...log]);
      }
      const own = runs.map((r) => r.filter((s) => !PERIODIC.some((p) => p.test(s.sql))));
      own.sort((a, b) => a.length - b.length);
      const median = own[1]!;
      const byApp: Record<string, number> = {};
      for (const s of median) byApp[s.app] = (byApp[s.app] ?? 0) + 1;
      counts[hook] = { total: median.length, byApp, statements: median.map((s) => `${s.app}: ${s.sql}`) };
      say(`\n${hook}: ${median.length} round trips ${JSON.stringify(byApp)}`);
      if (process.argv.includes('--list')) for (const s of median) say(`  ${s.app.padEnd(16)} ${s.sql}`);
    }

    const latency: Record<string, { n: number; p50: number; p99: number; perS: number }> = {};
    const series: Array<[string, number, (i: number) => Kind]> = [
      ['fresh c=1', 1, (i) => (i % 2 ? 'order-sign' : 'patient-view')],
      ['fresh c=8', 8, (i) => (i % 2 ? 'order-sign' : 'patient-view')],
      ['repeat c=1', 1, () => 'patient-view repeat'],
    ];
    for (const [name, conc, kind] of series) {
      const times: number[] = [];
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: conc }, async () => {
          while (next < calls) {
            const i = next++;
            times.push(await call(kind(i)));
          }
        }),
      );
      const wall = (performance.now() - started) / 1000;
      times.sort((a, b) => a - b);
      latency[name] = {
        n: times.length,
        p50: +pct(times, 50).toFixed(2),
        p99: +pct(times, 99).toFixed(2),
        perS: +(times.length / wall).toFixed(1),
      };
      say(`${name}: ${JSON.stringify(latency[name])}`);
      await settle();
    }
    const out = arg('json', '');
    if (out) writeFileSync(out, JSON.stringify({ counts, latency }, null, 2));
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
