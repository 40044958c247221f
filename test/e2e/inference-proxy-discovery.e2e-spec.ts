import { startModelDouble, type ModelDouble } from '@app/model-double';
import type { ResolveHost } from '../../apps/inference-proxy/src/backends/backend-discovery.service';
import { inferenceRequest, startProxyHarness, type ProxyHarness } from './inference-proxy-harness';

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;

const generations = (d: ModelDouble): number => d.requests().filter((r) => r.path.endsWith('completions')).length;

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The proxy, on the real broker and Postgres, in front of a pool it discovers: three model doubles on their
 * own loopback addresses at one port (pods behind a headless Service), found through a `dns+` backend whose
 * answer changes while Kafka traffic runs. Every request must end with an answer.
 */
describe('inference-proxy discovers engines per pod', () => {
  const doubles = new Map<string, ModelDouble>();
  let answer: ReadonlyArray<string> = [];
  const resolve: ResolveHost = async (hostname) => (hostname === 'engines' ? answer : []);
  let h: ProxyHarness;
  let port: number;
  const engine = (host: string): string => `vllm@${host}:${port}`;

  beforeAll(async () => {
    const first = await startModelDouble({ host: HOSTS[0], latency: { ttftMs: 60, perTokenMs: 0 } });
    port = Number(new URL(first.url).port);
    doubles.set(HOSTS[0], first);
    for (const host of HOSTS.slice(1))
      doubles.set(host, await startModelDouble({ host, port, latency: { ttftMs: 60, perTokenMs: 0 } }));
    answer = [HOSTS[0], HOSTS[1]];
    h = await startProxyHarness(
      [{ id: `vllm@dns+engines:${port}`, kind: 'vllm', baseUrl: `http://engines:${port}/v1`, discovery: 'dns' }],
      {
        BACKEND_DISCOVERY_INTERVAL_MS: '100',
        BACKEND_HEALTH_INTERVAL_MS: '200',
        BACKEND_METRICS_INTERVAL_MS: '100',
        BACKEND_COOLDOWN_MS: '500',
        INFERENCE_CONCURRENCY: '6',
        BACKEND_MAX_OUTSTANDING: '3',
        INFERENCE_CACHE_TTL_MS: '0',
        RESULT_FLUSH_MS: '10',
      },
      undefined,
      resolve,
    );
  });
  afterAll(async () => {
    await h?.stop();
    for (const d of doubles.values()) await d.close();
  });

  it('loses no request while engines join, one cools down and one leaves', async () => {
    const double = (host: string): ModelDouble => doubles.get(host)!;
    const healthy = async (): Promise<string[]> =>
      (await h.metricsText())
        .split('\n')
        .filter((l) => l.startsWith('meditron_proxy_backend_healthy{') && l.endsWith(' 1'))
        .map((l) => /backend="([^"]+)"/.exec(l)![1]!)
        .sort();
    await until(async () => (await healthy()).length === 2);

    const first = Array.from({ length: 30 }, () => inferenceRequest());
    await h.publish(first);
    await until(() => generations(double(HOSTS[0])) > 0 && generations(double(HOSTS[1])) > 0);

    // Scale up during traffic; then one engine fails generations (vLLM 500) and cools down alone.
    answer = [...HOSTS];
    await until(async () => (await healthy()).length === 3);
    double(HOSTS[1]).injectFault({ kind: 'generation_error', count: 1 });
    const second = Array.from({ length: 30 }, () => inferenceRequest());
    await h.publish(second);
    await until(() => generations(double(HOSTS[2])) > 0);
    await until(async () => (await h.metricsText()).includes(`backend="${engine(HOSTS[1])}",reason="unavailable"`));

    // Scale down during traffic: the removed engine finishes what it holds and gets nothing new.
    const third = Array.from({ length: 30 }, () => inferenceRequest());
    await h.publish(third);
    await until(() => double(HOSTS[0]).stats().inFlight > 0);
    answer = [HOSTS[1], HOSTS[2]];
    await until(async () => !(await h.metricsText()).includes(`backend="${engine(HOSTS[0])}"`));
    const servedByRemoved = generations(double(HOSTS[0]));

    const all = [...first, ...second, ...third];
    const rows = await h.results(
      all.map((r) => r.requestId),
      60_000,
    );
    expect(rows.filter((r) => r.outcome !== 'ok')).toEqual([]);
    expect(new Set(rows.map((r) => r.backend))).toEqual(new Set(HOSTS.map(engine)));
    // Its answers made it into result rows even though it left while serving them.
    const rowsOfRemoved = rows.filter((r) => r.backend === engine(HOSTS[0])).length;
    expect(rowsOfRemoved).toBe(servedByRemoved);
    expect(generations(double(HOSTS[0]))).toBe(servedByRemoved);
    expect(await healthy()).toEqual([engine(HOSTS[1]), engine(HOSTS[2])]);
    // Series of a removed engine go with it: labels stay bounded by the engines present.
    expect(await h.metricsText()).not.toContain(engine(HOSTS[0]));
  });
});
