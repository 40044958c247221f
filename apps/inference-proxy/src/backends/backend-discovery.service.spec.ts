import { Logger } from '@nestjs/common';
import type { BackendTarget } from '@app/config';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { inferenceRequest } from '../testing/inference-request.fixture';
import { BackendDiscovery, type ResolveHost } from './backend-discovery.service';
import { BackendHealth } from './backend-health.service';
import { BackendPool, type PoolOptions } from './backend-pool.service';

const OPTS: PoolOptions = {
  callTimeoutMs: 5_000,
  maxAttempts: 3,
  retryBaseMs: 10,
  retryMaxMs: 50,
  // Long enough that a loaded machine still observes the cooldown's window (it was 400 ms, and flaky there).
  cooldownMs: 2_000,
  maxOutstanding: 4,
  concurrency: 6,
};

const generations = (d: ModelDouble): number => d.requests().filter((r) => r.path.endsWith('completions')).length;

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Engines behind one name, as a headless Service publishes them: real model doubles on 127.0.0.2..4 at one
 * port, and a resolver (the injected port) whose answer the test changes while traffic runs.
 */
describe('BackendDiscovery over model doubles', () => {
  const doubles = new Map<string, ModelDouble>();
  let port: number;
  let source: BackendTarget;
  let answer: ReadonlyArray<string> | Error;
  const resolve: ResolveHost = async () => {
    if (answer instanceof Error) throw answer;
    return answer;
  };
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    Logger.overrideLogger(false);
    const first = await startModelDouble({ host: '127.0.0.2', latency: { ttftMs: 40, perTokenMs: 0 } });
    doubles.set('127.0.0.2', first);
    port = Number(new URL(first.url).port);
    for (const host of ['127.0.0.3', '127.0.0.4'])
      doubles.set(host, await startModelDouble({ host, port, latency: { ttftMs: 40, perTokenMs: 0 } }));
    source = { id: `vllm@dns+engines:${port}`, kind: 'vllm', baseUrl: `http://engines:${port}/v1`, discovery: 'dns' };
  });
  afterAll(async () => {
    for (const d of doubles.values()) await d.close();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    for (const d of doubles.values()) d.clearFaults();
  });

  const double = (host: string): ModelDouble => doubles.get(host)!;
  const id = (host: string): string => `vllm@${host}:${port}`;

  function setUp(removed: string[] = []) {
    const pool = new BackendPool([source], OPTS, {
      callFinished: () => undefined,
      cooledDown: () => undefined,
      backendRemoved: (b) => removed.push(b),
    });
    const health = new BackendHealth(pool.backends, 60_000, 1_000);
    const discovery = new BackendDiscovery(pool, 30, resolve, (b) => health.probeOne(b));
    stops.push(() => discovery.stop());
    return { pool, health, discovery, state: (host: string) => pool.backends.find((b) => b.id === id(host)) };
  }

  it('keeps every request served while engines join, one cools down and one leaves', async () => {
    answer = ['127.0.0.2', '127.0.0.3'];
    const removed: string[] = [];
    const { pool, discovery, state } = setUp(removed);
    expect(pool.backends).toHaveLength(0);
    discovery.start();
    await until(() => pool.backends.filter((b) => b.healthy).length === 2);

    let running = true;
    const outcomes: Array<string> = [];
    const worker = async (): Promise<void> => {
      while (running) outcomes.push((await pool.complete(inferenceRequest(), Date.now() + 10_000)).backendId);
    };
    const workers = Array.from({ length: 6 }, () => worker());

    // Scale up: the new engine is probed, then takes a share.
    answer = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    await until(() => generations(double('127.0.0.4')) >= 3);

    // One engine sheds load (vLLM with a queue limit answers 503): it alone cools down, the others serve.
    double('127.0.0.2').injectFault({ kind: 'unavailable', count: 1 });
    await until(() => state('127.0.0.2')?.coolingDown(Date.now()) === true);
    const cooledAt = generations(double('127.0.0.2'));
    const othersAt = generations(double('127.0.0.3')) + generations(double('127.0.0.4'));
    await until(() => generations(double('127.0.0.3')) + generations(double('127.0.0.4')) > othersAt + 6);
    expect(state('127.0.0.2')!.coolingDown(Date.now())).toBe(true);
    expect(generations(double('127.0.0.2'))).toBe(cooledAt);

    // Scale down while it holds calls: drained (no new calls), its in-flight ones finish, then it is removed.
    await until(() => (state('127.0.0.3')?.outstanding ?? 0) > 0);
    // Held as an object: routing may have moved every call off it (its latency penalty) by the time discovery
    // runs, and then it is drained and removed in the same step.
    const three = state('127.0.0.3')!;
    answer = ['127.0.0.2', '127.0.0.4'];
    await until(() => three.draining);
    const issuedBeforeDrain = three.started;
    await until(() => state('127.0.0.3') === undefined);
    expect(removed).toEqual([id('127.0.0.3')]);
    await new Promise((r) => setTimeout(r, 150));
    running = false;
    await Promise.all(workers);

    expect(generations(double('127.0.0.3'))).toBe(issuedBeforeDrain);
    // Its in-flight calls were answered, none cut off by the removal.
    expect(double('127.0.0.3').stats()).toMatchObject({ inFlight: 0, answered: double('127.0.0.3').stats().received });
    expect(pool.backends.map((b) => b.id).sort()).toEqual([id('127.0.0.2'), id('127.0.0.4')]);
    // No request lost: every call returned an answer (complete() throws otherwise and the worker would reject).
    expect(outcomes.length).toBeGreaterThan(30);
    expect(new Set(outcomes)).toEqual(new Set([id('127.0.0.2'), id('127.0.0.3'), id('127.0.0.4')]));
  });

  it('routes to a new engine only after its health probe passes', async () => {
    answer = ['127.0.0.2', '127.0.0.3'];
    // A probe that fails: the engines do not list the served model the requests name.
    const pool = new BackendPool([source], OPTS);
    const health = new BackendHealth(pool.backends, 60_000, 1_000, 'another-model');
    await new BackendDiscovery(pool, 30, resolve, (b) => health.probeOne(b)).resolveAll();
    expect(pool.backends.map((b) => [b.id, b.healthy])).toEqual([
      [id('127.0.0.2'), false],
      [id('127.0.0.3'), false],
    ]);
    const before = generations(double('127.0.0.2')) + generations(double('127.0.0.3'));
    await expect(pool.complete(inferenceRequest(), Date.now() + 300)).rejects.toMatchObject({ code: 'no_backend' });
    expect(generations(double('127.0.0.2')) + generations(double('127.0.0.3'))).toBe(before);

    // With a probe that passes, the first resolution admits them before it returns.
    const { pool: admitted, discovery } = setUp();
    await discovery.resolveAll();
    expect(admitted.backends.map((b) => [b.id, b.healthy])).toEqual([
      [id('127.0.0.2'), true],
      [id('127.0.0.3'), true],
    ]);
  });

  it('keeps its engines while the name cannot be resolved, and drains them when it resolves to none', async () => {
    answer = ['127.0.0.2', '127.0.0.4'];
    const { pool, discovery } = setUp();
    await discovery.resolveAll();
    answer = Object.assign(new Error('queryA ETIMEOUT engines'), { code: 'ETIMEOUT' });
    await discovery.resolveAll();
    expect(pool.backends.filter((b) => !b.draining)).toHaveLength(2);
    expect((await pool.complete(inferenceRequest(), Date.now() + 5_000)).attempts).toBe(1);

    answer = [];
    await discovery.resolveAll();
    expect(pool.backends).toHaveLength(0);
    answer = ['127.0.0.4'];
    await discovery.resolveAll();
    expect(pool.backends.map((b) => [b.id, b.healthy])).toEqual([[id('127.0.0.4'), true]]);
  });

  it('warns when the engines it sees cannot hold the concurrency, once per change', async () => {
    const warnings: string[] = [];
    const quiet = (): void => undefined;
    Logger.overrideLogger({ log: quiet, error: quiet, warn: (m: unknown) => void warnings.push(String(m)) });
    try {
      // 4 per engine, concurrency 6: one engine is short, two are enough.
      const pool = new BackendPool([source], OPTS);
      const discovery = new BackendDiscovery(pool, 30, resolve);
      answer = ['127.0.0.2'];
      await discovery.resolveAll();
      await discovery.resolveAll();
      answer = ['127.0.0.2', '127.0.0.3'];
      await discovery.resolveAll();
      const capacity = warnings.filter((w) => w.includes('INFERENCE_CONCURRENCY'));
      expect(capacity).toEqual([
        'BACKEND_MAX_OUTSTANDING (4) x 1 engine(s) is below INFERENCE_CONCURRENCY (6): requests wait for a backend slot',
      ]);
      // Listed engines are checked at boot.
      new BackendPool([{ id: 'vllm@one', kind: 'vllm', baseUrl: 'http://127.0.0.2:1/v1' }], OPTS);
      expect(warnings.filter((w) => w.includes('INFERENCE_CONCURRENCY'))).toHaveLength(2);
    } finally {
      Logger.overrideLogger(false);
    }
  });
});
