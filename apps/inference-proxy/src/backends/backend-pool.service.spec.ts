import { Logger } from '@nestjs/common';
import { startModelDouble, type DoubleFlavour, type ModelDouble, type ModelDoubleOptions } from '@app/model-double';
import { inferenceRequest } from '../testing/inference-request.fixture';
import { BackendError } from './backend-error';
import { BackendHealth } from './backend-health.service';
import { BackendMetricsScraper } from './backend-metrics-scraper.service';
import { BackendPool, type PoolOptions } from './backend-pool.service';

const OPTS: PoolOptions = {
  callTimeoutMs: 5_000,
  maxAttempts: 3,
  retryBaseMs: 10,
  retryMaxMs: 50,
  cooldownMs: 5_000,
  maxOutstanding: 8,
};

function generations(d: ModelDouble): number {
  return d.requests().filter((r) => r.path.endsWith('completions')).length;
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The pool against two real model doubles (OpenAI-compatible HTTP servers imitating vLLM / TGI). */
describe('BackendPool over model doubles', () => {
  let a: ModelDouble;
  let b: ModelDouble;
  const stops: Array<() => Promise<void>> = [];

  async function pair(flavour: DoubleFlavour = 'vllm', options: ModelDoubleOptions = {}): Promise<BackendPool> {
    a = await startModelDouble({ ...options, flavour });
    b = await startModelDouble({ ...options, flavour });
    stops.push(
      () => a.close(),
      () => b.close(),
    );
    return new BackendPool(
      [
        { id: 'a', kind: flavour, baseUrl: a.baseUrl },
        { id: 'b', kind: flavour, baseUrl: b.baseUrl },
      ],
      OPTS,
    );
  }

  beforeAll(() => Logger.overrideLogger(false));

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  const deadline = (ms = 10_000): number => Date.now() + ms;

  it('shares load between two healthy backends', async () => {
    const pool = await pair();
    for (let wave = 0; wave < 5; wave++) {
      await Promise.all(Array.from({ length: 4 }, () => pool.complete(inferenceRequest(), deadline())));
    }
    expect(generations(a) + generations(b)).toBe(20);
    expect(generations(a)).toBeGreaterThanOrEqual(5);
    expect(generations(b)).toBeGreaterThanOrEqual(5);
  });

  it('sends fewer requests to a backend whose own queue is long', async () => {
    const pool = await pair();
    a.setLatency({ ttftMs: 400, perTokenMs: 0 });
    const scraper = new BackendMetricsScraper(pool.backends, 25, 1_000);
    scraper.start();
    stops.push(() => scraper.stop());
    // Requests arrive one every 20 ms while the slow one builds a queue the scraper reports.
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 30; i++) {
      calls.push(pool.complete(inferenceRequest(), deadline()));
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(calls);
    expect(generations(a) + generations(b)).toBe(30);
    expect(generations(a)).toBeLessThan(generations(b) / 2);
  });

  it('cools down a backend answering 503 (vLLM with a queue limit) and every request still succeeds on the other', async () => {
    const pool = await pair('vllm', { maxNumQueuedReqs: 64 });
    a.injectFault({ kind: 'overloaded' });
    for (let i = 0; i < 10; i++) {
      const out = await pool.complete(inferenceRequest(), deadline());
      expect(out.backendId).toBe('b');
    }
    expect(generations(a)).toBeLessThanOrEqual(1);
    expect(generations(b)).toBe(10);
    expect(pool.backends[0]!.coolingDown(Date.now())).toBe(generations(a) === 1);
  });

  it('maps TGI 429 to overloaded, retries elsewhere and records the attempts', async () => {
    const pool = await pair('tgi');
    a.injectFault({ kind: 'overloaded' });
    // Equal load: the first call goes to the first backend listed.
    const out = await pool.complete(inferenceRequest(), deadline());
    expect(out).toMatchObject({ backendId: 'b', attempts: 2 });
    expect(a.stats().faulted).toBe(1);
    expect(pool.backends[0]!.coolingDown(Date.now())).toBe(true);
  });

  it('ejects a backend that fails its health probe and readmits it after recovery', async () => {
    const pool = await pair();
    const health = new BackendHealth(pool.backends, 50, 1_000);
    health.start();
    stops.push(() => health.stop());
    a.injectFault({ kind: 'unavailable' });
    await until(() => !pool.backends[0]!.healthy);
    const before = generations(a);
    for (let i = 0; i < 6; i++) expect((await pool.complete(inferenceRequest(), deadline())).backendId).toBe('b');
    expect(generations(a)).toBe(before);

    a.clearFaults();
    await until(() => pool.backends[0]!.healthy);
    const served = await Promise.all(Array.from({ length: 6 }, () => pool.complete(inferenceRequest(), deadline())));
    expect(served.filter((s) => s.backendId === 'a').length).toBeGreaterThan(0);
  });

  it('retries a dropped connection on the other backend', async () => {
    const pool = await pair();
    a.injectFault({ kind: 'disconnect', count: 1 });
    const out = await pool.complete(inferenceRequest(), deadline());
    expect(out).toMatchObject({ backendId: 'b', attempts: 2 });
    expect(a.stats().faulted).toBe(1);
  });

  it('fails cleanly by the deadline when every backend is down', async () => {
    const pool = await pair();
    a.injectFault({ kind: 'unavailable' });
    b.injectFault({ kind: 'unavailable' });
    const end = deadline(2_000);
    const err = await pool.complete(inferenceRequest(), end).catch((e: unknown) => e);
    // Each backend tried once, then the pool waits for one to come back until the deadline and gives up (not a
    // wall-clock assertion: a timer on a loaded machine fires late; the jest timeout guards against a hang).
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).attempts).toBe(2);
    expect(a.stats().received).toBe(1);
    expect(b.stats().received).toBe(1);
    // vLLM's 503 reads as overload (it sheds load with 503 when its queue is full).
    expect(['overloaded', 'unavailable']).toContain((err as BackendError).code);
    // Both cooled down: the next request is refused without a call.
    const received = a.stats().received + b.stats().received;
    const next = await pool.complete(inferenceRequest(), deadline(500)).catch((e: unknown) => e);
    expect((next as BackendError).code).toBe('no_backend');
    expect(a.stats().received + b.stats().received).toBe(received);
  });

  it('waits inside the deadline for a backend to come back, spending no attempt while none is available', async () => {
    const pool = new BackendPool(
      [
        { id: 'a', kind: 'vllm', baseUrl: (a = await startModelDouble({ maxNumQueuedReqs: 64 })).baseUrl },
        { id: 'b', kind: 'vllm', baseUrl: (b = await startModelDouble({ maxNumQueuedReqs: 64 })).baseUrl },
      ],
      { ...OPTS, maxAttempts: 3, cooldownMs: 300 },
    );
    stops.push(
      () => a.close(),
      () => b.close(),
    );
    // Both backends shed their first call and cool down for 300 ms; the third call, once one is back, succeeds.
    // Were the rounds that find no backend counted as attempts, the request would fail after the retry backoff.
    a.injectFault({ kind: 'overloaded', count: 1 });
    b.injectFault({ kind: 'overloaded', count: 1 });
    const out = await pool.complete(inferenceRequest(), deadline(5_000));
    expect(out.attempts).toBe(3);
    expect(generations(a) + generations(b)).toBe(3);
  });

  it('gives up on a backend hanging past the deadline, within the deadline', async () => {
    const pool = await pair();
    a.injectFault({ kind: 'slow', delayMs: 10_000 });
    b.injectFault({ kind: 'slow', delayMs: 10_000 });
    const end = deadline(600);
    const err = await pool.complete(inferenceRequest(), end).catch((e: unknown) => e);
    expect((err as BackendError).code).toBe('timeout');
    expect(Date.now()).toBeLessThan(end + 200);
    a.clearFaults();
    b.clearFaults();
  });

  it('vLLM without a queue limit is overloaded by waiting, not refusing: the call succeeds late, no cooldown', async () => {
    const pool = await pair();
    a.injectFault({ kind: 'overloaded', count: 1, delayMs: 300 });
    const started = Date.now();
    const out = await pool.complete(inferenceRequest(), deadline());
    expect(out).toMatchObject({ backendId: 'a', attempts: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(pool.backends[0]!.coolingDown(Date.now())).toBe(false);
  });

  it('routes around a vLLM that queues (no 503, no scraped metrics) by its latency per token', async () => {
    const pool = await pair();
    a.injectFault({ kind: 'overloaded', delayMs: 200 });
    for (let i = 0; i < 6; i++) await pool.complete(inferenceRequest(), deadline());
    expect(a.stats().received).toBeLessThanOrEqual(2);
    expect(generations(b)).toBeGreaterThanOrEqual(4);
    a.clearFaults();
  });

  it('retries a TGI 424 (generation error) on the other backend and cools the first down', async () => {
    const pool = await pair('tgi');
    a.injectFault({ kind: 'generation_error', count: 1 });
    const out = await pool.complete(inferenceRequest(), deadline());
    expect(out).toMatchObject({ backendId: 'b', attempts: 2 });
    expect(pool.backends[0]!.coolingDown(Date.now())).toBe(true);
  });

  it.each(['vllm', 'tgi'] as const)(
    'records an over-long prompt on %s as input_too_long, tried once, no cooldown',
    async (flavour) => {
      const pool = await pair(flavour, { limits: { maxModelLen: 64, maxInputTokens: 32, maxTotalTokens: 64 } });
      const prompt = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
      const err = await pool.complete(inferenceRequest({ prompt }), deadline()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect(err).toMatchObject({ code: 'input_too_long', attempts: 1, status: flavour === 'tgi' ? 422 : 400 });
      expect(generations(a) + generations(b)).toBe(1);
      expect(pool.backends.some((x) => x.coolingDown(Date.now()))).toBe(false);
    },
  );
});
