/**
 * The load generator, run as its own process (the system under test never shares its CPU time with the
 * bookkeeping here beyond the machine's two cores). Jobs arrive over IPC, one at a time.
 *  - open mode: a paced, open-loop generator (requests start on schedule whatever the answers do; latency is
 *    measured from the scheduled start, so queueing in the system is not hidden by coordinated omission).
 *  - closed mode: autocannon with a fixed number of connections (throughput at a given concurrency).
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { importJWK, SignJWT } from 'jose';
import { hookBodies } from './lib/payloads';
import { errorText, round, summarize } from './lib/stats';
import type { LoadJob, LoadResult, StepAnswers, WorkerReply, WorkerRequest } from './lib/types';

interface Tally {
  latencies: number[];
  /** Open mode: each answer's scheduled start (ms after the step's start) beside its latency. */
  starts: number[];
  /** performance.now() of the first and last completed answer (open mode: the throughput window). */
  firstDone: number;
  lastDone: number;
  status: Record<string, number>;
  timeouts: number;
  transportErrors: number;
  emptyCards: number;
  bytes: number;
  withinBudget: number;
  firstError?: string;
}

const newTally = (): Tally => ({
  latencies: [],
  starts: [],
  firstDone: 0,
  lastDone: 0,
  status: {},
  timeouts: 0,
  transportErrors: 0,
  emptyCards: 0,
  bytes: 0,
  withinBudget: 0,
});

async function mintTokens(job: LoadJob, count: number): Promise<string[]> {
  const auth = job.auth;
  if (auth.kind === 'none') return [];
  if (auth.kind === 'bearer') return [auth.token];
  const key = await importJWK(auth.key.privateJwk, auth.key.alg);
  const out: string[] = [];
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    out.push(
      await new SignJWT({})
        .setProtectedHeader({ alg: auth.key.alg, kid: auth.key.kid, typ: 'JWT' })
        .setIssuer(auth.key.issuer)
        .setAudience(auth.audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .setJti(randomUUID())
        .sign(key),
    );
  }
  return out;
}

function bodyMaker(job: LoadJob): (i: number) => string | undefined {
  const b = job.body;
  if (b.kind === 'none') return () => undefined;
  if (b.kind === 'static') return () => b.text;
  const make = hookBodies(b.hook, b.vary, b.seed);
  return (i) => make(i);
}

function headersFor(job: LoadJob, tokens: readonly string[], i: number): Record<string, string> {
  const h: Record<string, string> = { ...job.headers };
  if (job.auth.kind !== 'none') {
    // Past the end of the pool a request goes out with a spent token and counts as an error (401).
    const token = job.auth.kind === 'bearer' ? tokens[0] : (tokens[i] ?? 'token-pool-exhausted');
    h.authorization = `Bearer ${token}`;
  }
  return h;
}

function finish(
  job: LoadJob,
  t: Tally,
  started: number,
  sent: number,
  mintMs: number,
  lateStarts?: number,
): LoadResult {
  const elapsedS = (performance.now() - started) / 1000;
  const ok = Object.entries(t.status)
    .filter(([code]) => code.startsWith('2'))
    .reduce((s, [, n]) => s + n, 0);
  const non2xx = Object.entries(t.status)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((s, [, n]) => s + n, 0);
  return {
    name: job.name,
    mode: job.mode,
    offeredRps: job.rate ?? null,
    connections: job.connections,
    durationS: round(elapsedS),
    requests: sent,
    completed: t.latencies.length,
    // Open loop: answers per second over the span in which answers came back (not the drain after the last send).
    throughputRps: round(
      job.mode === 'open' && t.lastDone > t.firstDone && ok > 1
        ? ((ok - 1) * 1000) / (t.lastDone - t.firstDone)
        : ok / elapsedS,
    ),
    latencyMs: summarize(t.latencies),
    ...(t.starts.length === t.latencies.length && t.starts.length > 0 ? { slowest: slowest(t) } : {}),
    status: t.status,
    errors: non2xx + t.timeouts + t.transportErrors,
    timeouts: t.timeouts,
    transportErrors: t.transportErrors,
    emptyCards: t.emptyCards,
    bytesPerS: round(t.bytes / elapsedS, 0),
    mintMs: round(mintMs),
    ...(t.firstError ? { firstError: t.firstError } : {}),
    ...(lateStarts !== undefined ? { lateStarts } : {}),
    ...(job.budgetMs !== undefined ? { withinBudget: t.withinBudget } : {}),
    ...(job.timeline && job.mode === 'open' ? { answers: answersOf(t, started) } : {}),
  };
}

/** Every answer's schedule and latency, with the step's start on the epoch clock the other processes share. */
function answersOf(t: Tally, started: number): StepAnswers {
  return {
    startEpochMs: round(performance.timeOrigin + started),
    dueMs: t.starts.map((v) => round(v)),
    latencyMs: t.latencies.map((v) => round(v)),
  };
}

/** The SLOWEST answers of an open-loop step, with when they were due: a tail that clusters is one event. */
const SLOWEST = 10;
function slowest(t: Tally): Array<{ atS: number; ms: number }> {
  return t.latencies
    .map((ms, i) => ({ atS: round(t.starts[i]! / 1000, 2), ms: round(ms) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, SLOWEST);
}

/**
 * The generator's own stalls over an open-loop step: its event-loop delay and garbage-collection pauses. Latency
 * is measured from each request's scheduled start, so a stall here shows up as latency of the system under test;
 * these say when a tail was the generator's.
 */
function watchSelf(): { stop(): { loopMaxMs: number; gcMaxMs: number } } {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, e.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      loop.disable();
      gc.disconnect();
      return { loopMaxMs: round(loop.max / 1e6), gcMaxMs: round(gcMaxMs) };
    },
  };
}

/**
 * A full collection before a step's window opens (the worker runs with --expose-gc): the previous step's bodies and
 * tokens (tens of MB) are garbage by then, and collecting them inside the window made the generator's own V8
 * workers take a core at the step's start (seen by the tail timeline: its run-queue wait 112 ms per 100 ms and a
 * 27 ms pause in the first 200 ms of a 65/s step). Without the flag (another runner) it does nothing.
 */
function collectBeforeWindow(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Open loop: request i starts at t0 + i / rate. */
async function runOpen(job: LoadJob): Promise<LoadResult> {
  const rate = job.rate ?? 1;
  const total = Math.max(1, Math.round(rate * job.durationS));
  const mintStart = performance.now();
  const tokens = await mintTokens(job, total);
  const mintMs = performance.now() - mintStart;
  const makeBody = bodyMaker(job);
  const bodies = Array.from({ length: total }, (_, i) => makeBody(i));
  const url = new URL(job.origin);
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections, maxFreeSockets: job.connections });
  const t = newTally();
  let lateStarts = 0;
  let outstanding = 0;
  let done!: () => void;
  const allDone = new Promise<void>((r) => (done = r));
  let scheduled = 0;
  collectBeforeWindow();
  const self = watchSelf();
  const started = performance.now();
  const fire = (i: number, due: number): void => {
    outstanding++;
    const body = bodies[i];
    const headers = headersFor(job, tokens, i);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    let settled = false;
    const settle = (status: string | null, text: string, err?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (status !== null) {
        t.status[status] = (t.status[status] ?? 0) + 1;
        const now = performance.now();
        t.latencies.push(now - due);
        t.starts.push(due - started);
        if (status.startsWith('2')) {
          if (t.firstDone === 0) t.firstDone = now;
          t.lastDone = now;
          if (job.budgetMs !== undefined && now - due <= job.budgetMs) t.withinBudget++;
        }
        t.bytes += text.length;
        if (job.inspectCards && status === '200' && /"cards"\s*:\s*\[\s*\]/.test(text)) t.emptyCards++;
        if (!status.startsWith('2') && !t.firstError) t.firstError = `${status}: ${text.slice(0, 300)}`;
      } else if (err && !t.firstError) t.firstError = err;
      outstanding--;
      if (scheduled >= total && outstanding === 0) done();
    };
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: job.method,
        path: job.paths[i % job.paths.length],
        headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => settle(String(res.statusCode ?? 0), Buffer.concat(chunks).toString('utf8')));
        res.on('error', (e) => {
          t.transportErrors++;
          settle(null, '', e.message);
        });
      },
    );
    const timer = setTimeout(() => {
      t.timeouts++;
      req.destroy(new Error('timeout'));
      settle(null, '', `timeout after ${job.timeoutMs} ms`);
    }, job.timeoutMs);
    req.on('error', (e) => {
      if (settled) return;
      t.transportErrors++;
      settle(null, '', e.message);
    });
    if (body !== undefined) req.end(body);
    else req.end();
  };
  const interval = 1000 / rate;
  while (scheduled < total) {
    const due = started + scheduled * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    else if (wait < -5) lateStarts++;
    fire(scheduled, due);
    scheduled++;
  }
  if (outstanding > 0) await allDone;
  agent.destroy();
  return { ...finish(job, t, started, total, mintMs, lateStarts), generator: self.stop() };
}

/** Closed loop: autocannon, `connections` requests in flight, for durationS. */
async function runClosed(job: LoadJob): Promise<LoadResult> {
  // Upper bound on requests in the window: generous for the token pool.
  const mintStart = performance.now();
  const poolSize = job.auth.kind === 'ehr' ? Math.ceil((job.rate ?? 600) * job.durationS * 1.2) + job.connections : 1;
  const tokens = await mintTokens(job, poolSize);
  const mintMs = performance.now() - mintStart;
  const makeBody = bodyMaker(job);
  const t = newTally();
  let i = 0;
  collectBeforeWindow();
  const started = performance.now();
  let resolveResult!: (r: autocannon.Result) => void;
  let rejectResult!: (e: Error) => void;
  const finished = new Promise<autocannon.Result>((res, rej) => {
    resolveResult = res;
    rejectResult = rej;
  });
  const options: autocannon.Options = {
    url: job.origin,
    connections: job.connections,
    duration: job.durationS,
    timeout: Math.ceil(job.timeoutMs / 1000),
    requests: [
      {
        method: job.method,
        setupRequest: (req) => {
          const n = i++;
          const body = makeBody(n);
          return {
            ...req,
            method: job.method,
            path: job.paths[n % job.paths.length],
            headers: headersFor(job, tokens, n),
            ...(body !== undefined ? { body } : {}),
          };
        },
        onResponse: (status, body) => {
          if (job.inspectCards && status === 200 && /"cards"\s*:\s*\[\s*\]/.test(body)) t.emptyCards++;
          if (status >= 300 && !t.firstError) t.firstError = `${status}: ${body.slice(0, 300)}`;
        },
      },
    ],
  };
  const instance = autocannon(options, (err: Error | null, r: autocannon.Result) =>
    err ? rejectResult(err) : resolveResult(r),
  );
  // The tracker emits (client, status, bytes, ms); @types/autocannon leaves the client out.
  (instance as NodeJS.EventEmitter).on(
    'response',
    (_client: unknown, statusCode: number, resBytes: number, responseTime: number) => {
      t.status[String(statusCode)] = (t.status[String(statusCode)] ?? 0) + 1;
      t.latencies.push(responseTime);
      t.bytes += resBytes;
    },
  );
  const result = await finished;
  t.timeouts = result.timeouts;
  t.transportErrors = Math.max(0, result.errors - result.timeouts);
  return finish(job, t, started, result.requests.sent, mintMs);
}

process.on('message', (msg: WorkerRequest) => {
  const run = msg.job.mode === 'open' ? runOpen(msg.job) : runClosed(msg.job);
  run.then(
    (result) => process.send?.({ id: msg.id, ok: true, result } satisfies WorkerReply),
    (e: unknown) => process.send?.({ id: msg.id, ok: false, error: errorText(e) } satisfies WorkerReply),
  );
});

// The benchmark process went away: nothing more will be asked.
process.once('disconnect', () => process.exit(0));
