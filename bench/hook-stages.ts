/**
 * Issue 17: where the wall-clock time of one hook call goes (single-process stack on real Postgres, in-process bus,
 * model double at 0 ms), called on cds-hooks directly as the gateway would. The probe wraps the services of the hook
 * path (prototype methods, so the app code carries no debug timing) and every `pg` round trip, drives fresh
 * patient-view calls open loop at `--rate` (default 50/s) for `--seconds`, then, after a cool-down, repeat calls of one
 * context (served from its stored result), and prints per stage: count, p50, mean, p99 (ms).
 *
 *   node --require ./bench/register.js bench/hook-stages.ts [--rate=50] [--seconds=15] [--json=out.json]
 *
 * The load generator runs in the same process as the stack (like bench/hook-roundtrips.ts): absolute numbers are a
 * loaded 2-core machine's; compare two trees by running it alternately from each.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { AuditWriter } from '@app/audit';
import { INTERNAL_TOKEN_HEADER } from '@app/auth';
import { HookInvocationRepository, InferenceOutboxRepository, InferenceRepository } from '@app/database';
import { HookHandler } from '../apps/cds-hooks/src/hooks/hook-handler.service';
import { HookPreparation } from '../apps/cds-hooks/src/hooks/hook-preparation.service';
import { HookPrewarmer } from '../apps/cds-hooks/src/hooks/hook-prewarmer.service';
import { HookRecorder } from '../apps/cds-hooks/src/hooks/hook-recorder.service';
import { CardAnswerService } from '../apps/cds-hooks/src/hooks/card-answer.service';
import { InferenceStarter } from '../apps/cds-hooks/src/hooks/inference-starter.service';
import { ResultWaiter } from '../apps/cds-hooks/src/results/result-waiter.service';
import { InferenceRunner } from '../apps/inference-proxy/src/inference/inference-runner.service';
import { AnswerSource } from '../apps/inference-proxy/src/inference/answer-source.service';
import { PrioritySlots } from '../apps/inference-proxy/src/inference/priority-slots.service';
import { ResultBatchWriter } from '../apps/inference-proxy/src/inference/result-batch-writer.service';
import { hookBodies } from './lib/payloads';
import { startProbeStack } from './lib/probe-stack';

const samples = new Map<string, number[]>();
let recording = false;

function note(label: string, ms: number): void {
  if (!recording) return;
  const s = samples.get(label) ?? [];
  s.push(ms);
  samples.set(label, s);
}

type AnyFn = (...args: unknown[]) => unknown;

/** Times each call of `proto[name]` (sync or async) under `label(args)`. */
function time(proto: object, name: string, label: (args: unknown[]) => string): void {
  const target = proto as Record<string, AnyFn>;
  const original = target[name];
  if (typeof original !== 'function') throw new Error(`no method ${name}`);
  target[name] = function (this: unknown, ...args: unknown[]): unknown {
    const t0 = performance.now();
    const out = original.apply(this, args);
    if (out instanceof Promise) {
      return out.finally(() => note(label(args), performance.now() - t0));
    }
    note(label(args), performance.now() - t0);
    return out;
  };
}

/** Per request id: when its waiter started, the proxy took it, announced it, and the waiter settled. */
const marks = new Map<string, Partial<Record<'wait' | 'handle' | 'announced' | 'settled', number>>>();
function mark(id: string, what: 'wait' | 'handle' | 'announced' | 'settled'): void {
  if (!recording) return;
  const m = marks.get(id) ?? {};
  m[what] ??= performance.now();
  marks.set(id, m);
}

function instrument(): void {
  const fixed = (l: string) => () => l;
  time(HookHandler.prototype, 'handle', fixed('hook total (handler)'));
  time(HookPreparation.prototype, 'prepare', fixed('1 prepare'));
  time(InferenceStarter.prototype, 'start', fixed('2 starter.start (each: dispatch, prewarm)'));
  time(InferenceOutboxRepository.prototype, 'start', fixed('  outbox.start (call row + reuse + queue)'));
  time(HookPrewarmer.prototype, 'prewarm', fixed('3 prewarm'));
  time(HookRecorder.prototype, 'invoked', fixed('4 recorder.invoked (audit wait)'));
  time(CardAnswerService.prototype, 'answer', fixed('5 answers.answer (wait)'));
  time(HookRecorder.prototype, 'answered', fixed('6 recorder.answered (row + audit)'));
  time(HookInvocationRepository.prototype, 'answered', fixed('  invocations.answered (row)'));
  time(AuditWriter.prototype, 'record', (a) => `audit.record ${(a[0] as { action: string }).action}`);
  time(AuditWriter.prototype, 'insert', (a) => `audit INSERT (batch ${bucket((a[0] as unknown[]).length)})`);
  time(InferenceRunner.prototype, 'process', fixed('proxy process (total)'));
  time(InferenceRepository.prototype, 'progress', fixed('proxy  progress'));
  time(PrioritySlots.prototype, 'acquire', fixed('proxy  slots.acquire'));
  time(AnswerSource.prototype, 'answer', fixed('proxy  model answer'));
  time(ResultBatchWriter.prototype, 'write', fixed('proxy  result write (audit + store)'));
  time(ResultWaiter.prototype, 'check', fixed('waiter check (resultsOf)'));
  const runner = InferenceRunner.prototype as unknown as Record<string, AnyFn>;
  const handle = runner.handle!;
  runner.handle = function (this: unknown, ...args: unknown[]): unknown {
    mark((args[0] as { request: { requestId: string } }).request.requestId, 'handle');
    return handle.apply(this, args);
  };
  const finish = runner.finish!;
  runner.finish = function (this: unknown, ...args: unknown[]): unknown {
    const id = (args[0] as { requestId: string }).requestId;
    return (finish.apply(this, args) as Promise<void>).finally(() => mark(id, 'announced'));
  };
  const waiter = ResultWaiter.prototype as unknown as Record<string, AnyFn>;
  const wait = waiter.wait!;
  waiter.wait = function (this: unknown, ...args: unknown[]): unknown {
    const id = args[0] as string;
    mark(id, 'wait');
    return (wait.apply(this, args) as Promise<unknown>).finally(() => mark(id, 'settled'));
  };
  const proto = Client.prototype as unknown as { query: AnyFn; connectionParameters?: { application_name?: string } };
  const query = proto.query;
  proto.query = function (this: typeof proto, ...args: unknown[]): unknown {
    const first = args[0];
    const sql = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '?');
    const app = (this.connectionParameters?.application_name ?? '?').replace(/^meditron-/, '');
    const label = `pg ${app}: ${sql.replace(/\s+/g, ' ').trim().slice(0, 50)}`;
    const t0 = performance.now();
    const out = query.apply(this, args);
    if (out instanceof Promise) return out.finally(() => note(label, performance.now() - t0));
    return out;
  };
}

const bucket = (n: number): string => (n === 1 ? '1' : n <= 3 ? '2-3' : '4+');

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Row {
  n: number;
  p50: number;
  mean: number;
  p99: number;
}

function summary(xs: number[]): Row {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number): number => Math.round(v * 100) / 100;
  return {
    n: s.length,
    p50: r(pct(s, 50)),
    mean: r(s.reduce((a, b) => a + b, 0) / (s.length || 1)),
    p99: r(pct(s, 99)),
  };
}

function table(title: string): Record<string, Row> {
  const out: Record<string, Row> = {};
  const derived: Record<string, number[]> = {
    'wait→proxy took it': [],
    'proxy took→announced': [],
    'announced→waiter settled': [],
  };
  for (const m of marks.values()) {
    if (m.wait !== undefined && m.handle !== undefined)
      derived['wait→proxy took it']!.push(Math.max(0, m.handle - m.wait));
    if (m.handle !== undefined && m.announced !== undefined)
      derived['proxy took→announced']!.push(m.announced - m.handle);
    if (m.announced !== undefined && m.settled !== undefined && m.settled >= m.announced)
      derived['announced→waiter settled']!.push(m.settled - m.announced);
  }
  for (const [k, v] of Object.entries(derived)) if (v.length) samples.set(`mark ${k}`, v);
  process.stdout.write(`\n== ${title}\n${'stage'.padEnd(64)}     n     p50    mean     p99\n`);
  for (const label of [...samples.keys()].sort()) {
    const row = summary(samples.get(label)!);
    out[label] = row;
    if (row.n < 5) continue;
    process.stdout.write(
      `${label.padEnd(64)}${String(row.n).padStart(6)}${row.p50.toFixed(2).padStart(8)}${row.mean.toFixed(2).padStart(8)}${row.p99.toFixed(2).padStart(8)}\n`,
    );
  }
  samples.clear();
  marks.clear();
  return out;
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  instrument();
  const rate = Number(arg('rate', '50'));
  const seconds = Number(arg('seconds', '15'));
  const { stack, signer, stop } = await startProbeStack('stages');
  const fresh = hookBodies('patient-view', true, 23);
  const repeat = hookBodies('patient-view', false, 0);
  let n = 0;
  const path = '/cds-services/meditron-patient-view';
  async function call(body: (i: number) => string): Promise<number> {
    const token = await signer.sign({
      clientId: 'local-dev-ehr',
      requestId: randomUUID(),
      serviceId: 'meditron-patient-view',
      method: 'POST',
      path,
    });
    const started = performance.now();
    const res = await fetch(`${stack.cdsHooksUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token },
      body: body(n++),
    });
    const out = (await res.json()) as { cards?: unknown[] };
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    // No cards: the budget passed first (counted apart; the call itself succeeded).
    if (!out.cards?.length) note('calls answered with no cards', ms);
    return ms;
  }
  /** Open loop: one call every 1000/rate ms for `s` seconds, whatever the earlier ones are doing. */
  async function open(body: (i: number) => string, perS: number, s: number): Promise<number[]> {
    const times: number[] = [];
    const calls: Array<Promise<void>> = [];
    const t0 = performance.now();
    for (let i = 0; i < perS * s; i++) {
      const due = t0 + (i * 1000) / perS;
      const now = performance.now();
      if (due > now) await new Promise((r) => setTimeout(r, due - now));
      calls.push(call(body).then((ms) => void times.push(ms)));
    }
    await Promise.all(calls);
    return times;
  }
  const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const result: Record<string, unknown> = {};
  try {
    await open(fresh, 10, 4);
    await call(repeat);
    await pause(500);
    recording = true;
    const f = await open(fresh, rate, seconds);
    recording = false;
    samples.set('client latency', f);
    result.fresh = table(`fresh patient-view, ${rate}/s open loop, ${seconds} s`);
    await pause(2000);
    recording = true;
    const r = await open(repeat, 20, 10);
    recording = false;
    samples.set('client latency', r);
    result.repeat = table('repeat patient-view (stored result), 20/s open loop, 10 s, after a 2 s cool-down');
    const out = arg('json', '');
    if (out) writeFileSync(out, JSON.stringify(result, null, 2));
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
