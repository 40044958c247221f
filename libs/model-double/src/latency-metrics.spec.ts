import { countTokens, defaultTextAnswer, startModelDouble, type ModelDouble } from '@app/model-double';
import { eventually, metrics, metricValue, postJson } from './spec-support';

const RUNNING = 'vllm:num_requests_running{model_name="meditron-70b"}';
const WAITING = 'vllm:num_requests_waiting{model_name="meditron-70b"}';
const KV = 'vllm:kv_cache_usage_perc{model_name="meditron-70b"}';

describe('model double latency', () => {
  let double: ModelDouble;
  beforeEach(async () => {
    double = await startModelDouble({ latency: { ttftMs: 80, perTokenMs: 15 } });
  });
  afterEach(() => double.close());

  it('a non-streamed answer takes at least ttft + tokens * perToken', async () => {
    const tokens = countTokens(defaultTextAnswer('p')); // 6
    const started = Date.now();
    await postJson(`${double.baseUrl}/completions`, { prompt: 'p' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(80 + tokens * 15 - 5);
  });

  it('a stream sends its first token after ttft and the rest perToken apart', async () => {
    // Tokens far apart, so "first token before the whole answer" holds with a wide margin on a loaded machine.
    double.setLatency({ ttftMs: 80, perTokenMs: 100 });
    const started = Date.now();
    const res = await fetch(`${double.baseUrl}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'p', stream: true }),
    });
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const first = await reader.read();
    const firstAt = Date.now() - started;
    expect(new TextDecoder().decode(first.value)).toContain('"text":"Model"');
    expect(firstAt).toBeGreaterThanOrEqual(75);
    expect(firstAt).toBeLessThan(80 + 6 * 100); // before the whole answer would be ready
    while (!(await reader.read()).done) {
      /* drain */
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(80 + 6 * 100 - 5);
  });

  it('setLatency changes the clock for later requests', async () => {
    double.setLatency({ ttftMs: 1500, perTokenMs: 0 });
    let started = Date.now();
    await postJson(`${double.baseUrl}/completions`, { prompt: 'p' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1495);
    double.setLatency({ ttftMs: 0, perTokenMs: 0 });
    started = Date.now();
    await postJson(`${double.baseUrl}/completions`, { prompt: 'p' });
    // Far below the 1.5 s it took before, whatever the machine's load.
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('model double metrics', () => {
  it('vllm: running, waiting and KV-cache gauges follow in-flight requests', async () => {
    const double = await startModelDouble({ latency: { ttftMs: 150, perTokenMs: 0 } });
    try {
      const idle = await metrics(double.url);
      expect(idle).toContain('# TYPE vllm:num_requests_running gauge');
      expect(metricValue(idle, RUNNING)).toBe(0);
      expect(metricValue(idle, WAITING)).toBe(0);
      expect(metricValue(idle, KV)).toBe(0);

      // Two requests in prefill (before the first token) count as waiting.
      const prefill = Promise.all([
        postJson(`${double.baseUrl}/completions`, { prompt: 'a' }),
        postJson(`${double.baseUrl}/completions`, { prompt: 'b' }),
      ]);
      await eventually(async () => metricValue(await metrics(double.url), WAITING) === 2);
      const during = await metrics(double.url);
      expect(metricValue(during, RUNNING)).toBe(0);
      expect(metricValue(during, KV)).toBeCloseTo(2 / 16);
      await prefill;

      // After the first token they count as running until done.
      double.setLatency({ ttftMs: 0, perTokenMs: 60 });
      const decode = postJson(`${double.baseUrl}/completions`, { prompt: 'c' });
      await eventually(async () => metricValue(await metrics(double.url), RUNNING) === 1);
      expect(metricValue(await metrics(double.url), WAITING)).toBe(0);
      await decode;

      const after = await metrics(double.url);
      expect(metricValue(after, RUNNING)).toBe(0);
      expect(metricValue(after, WAITING)).toBe(0);
      expect(metricValue(after, KV)).toBe(0);
    } finally {
      await double.close();
    }
  });

  it('a client that goes away frees its slot', async () => {
    const double = await startModelDouble({ latency: { ttftMs: 5000, perTokenMs: 0 } });
    try {
      const aborter = new AbortController();
      const pending = fetch(`${double.baseUrl}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'gone' }),
        signal: aborter.signal,
      }).catch(() => 'aborted');
      await eventually(async () => metricValue(await metrics(double.url), WAITING) === 1);
      aborter.abort();
      expect(await pending).toBe('aborted');
      await eventually(async () => metricValue(await metrics(double.url), WAITING) === 0);
      expect(double.stats()).toMatchObject({ inFlight: 0, answered: 0 });
    } finally {
      await double.close();
    }
  });

  it('tgi: tgi_queue_size and tgi_batch_current_size', async () => {
    const double = await startModelDouble({ flavour: 'tgi', latency: { ttftMs: 0, perTokenMs: 60 } });
    try {
      const idle = await metrics(double.url);
      expect(idle).not.toContain('vllm:');
      expect(metricValue(idle, 'tgi_queue_size')).toBe(0);
      expect(metricValue(idle, 'tgi_batch_current_size')).toBe(0);
      const busy = postJson(`${double.baseUrl}/completions`, { prompt: 'x' });
      await eventually(async () => metricValue(await metrics(double.url), 'tgi_batch_current_size') === 1);
      await busy;
      expect(metricValue(await metrics(double.url), 'tgi_batch_current_size')).toBe(0);
    } finally {
      await double.close();
    }
  });
});
