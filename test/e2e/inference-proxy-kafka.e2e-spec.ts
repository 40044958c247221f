import { randomUUID } from 'node:crypto';
import { OVERHEAD_HEADER } from '../../apps/inference-proxy/src/facade/facade-relay.service';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { queryRows } from '../support/postgres';
import { inferenceRequest, sample, startProxyHarness, type ProxyHarness } from './inference-proxy-harness';

const CONCURRENCY = 2;
const QUEUE = 4;
const KEY = 'eval-job-key';

/** Prompts the double received for generation, in arrival order. */
function prompts(...doubles: ModelDouble[]): string[] {
  return doubles
    .flatMap((d) => d.requests())
    .filter((r) => r.path.endsWith('completions'))
    .sort((x, y) => x.receivedAt - y.receivedAt)
    .map((r) => (r.body as { prompt: string }).prompt);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The proxy on a real Kafka-protocol broker, real Postgres and two model doubles. */
describe('inference proxy over Kafka', () => {
  let a: ModelDouble;
  let b: ModelDouble;
  let h: ProxyHarness;
  const calls = (): number => prompts(a, b).length;

  beforeAll(async () => {
    // With a queue limit (newer vLLM's --max-num-queued-reqs) an overloaded vLLM answers 503, which the
    // traffic-shifting test below relies on; without one it only queues (see inference-proxy-backends).
    a = await startModelDouble({ flavour: 'vllm', maxNumQueuedReqs: 64 });
    b = await startModelDouble({ flavour: 'tgi' });
    h = await startProxyHarness(
      [
        { id: 'vllm@a', kind: 'vllm', baseUrl: a.baseUrl },
        { id: 'tgi@b', kind: 'tgi', baseUrl: b.baseUrl },
      ],
      {
        INFERENCE_CONCURRENCY: String(CONCURRENCY),
        INFERENCE_QUEUE_CAPACITY: String(QUEUE),
        BACKEND_HEALTH_INTERVAL_MS: '100',
        BACKEND_METRICS_INTERVAL_MS: '100',
        BACKEND_COOLDOWN_MS: '500',
        BACKEND_RETRY_BASE_MS: '10',
        RESULT_FLUSH_MS: '10',
        FACADE_API_KEYS: KEY,
      },
    );
  });

  afterAll(async () => {
    await h?.stop();
    await a?.close();
    await b?.close();
  });

  afterEach(() => {
    a.clearFaults();
    b.clearFaults();
    a.setLatency({ ttftMs: 0, perTokenMs: 0 });
    b.setLatency({ ttftMs: 0, perTokenMs: 0 });
  });

  it('runs each request once and records the whole inference, its status and its audit event', async () => {
    const reqs = Array.from({ length: 6 }, () => inferenceRequest());
    const before = calls();
    await h.publish(reqs);
    const rows = await h.results(reqs.map((r) => r.requestId));
    expect(calls() - before).toBe(6);
    for (const r of reqs) {
      const row = rows.find((x) => x.request_id === r.requestId)!;
      expect(row).toMatchObject({
        outcome: 'ok',
        status: 'completed',
        served_from: 'backend',
        attempts: 1,
        hook_instance: r.hookInstance,
        model: r.model,
        template_version: r.templateVersion,
        prompt_hash: r.promptHash,
        backend: expect.stringMatching(/^(vllm@a|tgi@b)$/),
      });
      expect(row.tokens_in).toBeGreaterThan(0);
      expect(row.tokens_out).toBeGreaterThan(0);
    }
    const audit = await queryRows<{ n: string }>(
      h.db.url,
      `SELECT count(*)::text AS n FROM audit_events WHERE action = 'inference.completed' AND request_id = ANY($1)`,
      [reqs.map((r) => r.requestId)],
    );
    expect(audit[0]!.n).toBe('6');
  });

  it('keeps at most INFERENCE_CONCURRENCY calls at the backends and pauses the partitions when full', async () => {
    a.setLatency({ ttftMs: 250, perTokenMs: 0 });
    b.setLatency({ ttftMs: 250, perTokenMs: 0 });
    const reqs = Array.from({ length: 14 }, () => inferenceRequest());
    let mostAtBackends = 0;
    let mostPending = 0;
    let sawPaused = false;
    const watch = setInterval(() => {
      mostAtBackends = Math.max(mostAtBackends, a.stats().inFlight + b.stats().inFlight);
      mostPending = Math.max(mostPending, h.source.inProgress);
      sawPaused ||= h.source.isPaused;
    }, 5);
    try {
      await h.publish(reqs);
      const rows = await h.results(
        reqs.map((r) => r.requestId),
        30_000,
      );
      expect(rows.every((r) => r.outcome === 'ok')).toBe(true);
    } finally {
      clearInterval(watch);
    }
    expect(mostAtBackends).toBe(CONCURRENCY);
    expect(mostPending).toBeLessThanOrEqual(CONCURRENCY + QUEUE);
    expect(sawPaused).toBe(true);
    await until(() => !h.source.isPaused);
  });

  it('serves order-sign before order-select before patient-view when slots are short', async () => {
    // The slots free one at a time, a second apart (blockers of 1.5 s and 2.5 s; everything after runs 2.5 s), so
    // the order the model sees is the order the proxy chose: two slots freeing together would race to the doubles.
    // 1.5 s is long enough for all three waiting requests to be fetched and queued first, even on a busy CI box.
    const blockers = Array.from({ length: CONCURRENCY }, () => inferenceRequest({ priority: 4 }));
    for (const [i, blocker] of blockers.entries()) {
      a.setLatency({ ttftMs: 1_500 + i * 1_000, perTokenMs: 0 });
      b.setLatency({ ttftMs: 1_500 + i * 1_000, perTokenMs: 0 });
      await h.publish([blocker]);
      await until(() => a.stats().inFlight + b.stats().inFlight === i + 1);
    }
    const tag = (hook: string): string => `<|im_start|>user\n${hook} ${randomUUID()}<|im_end|>\n`;
    const waiting = [
      inferenceRequest({ hook: 'patient-view', priority: 4, prompt: tag('patient-view') }),
      inferenceRequest({ hook: 'order-select', priority: 1, prompt: tag('order-select') }),
      inferenceRequest({ hook: 'order-sign', priority: 0, prompt: tag('order-sign') }),
    ];
    const seen = calls();
    await h.publish(waiting);
    await h.results([...blockers, ...waiting].map((r) => r.requestId));
    const order = prompts(a, b)
      .slice(seen)
      .map((p) => /(order-sign|order-select|patient-view)/.exec(p)?.[1]);
    expect(order).toEqual(['order-sign', 'order-select', 'patient-view']);
  });

  it('drops a request whose deadline has passed before it reaches a GPU, and records it expired', async () => {
    const before = calls();
    const req = inferenceRequest();
    await h.publish([req], { deadlineMs: Date.now() - 1 });
    const [row] = await h.results([req.requestId]);
    expect(row).toMatchObject({ outcome: 'expired', status: 'expired', error_code: 'deadline_passed', backend: null });
    expect(calls()).toBe(before);
  });

  it('runs the model once for a request delivered twice, in flight and after it is stored', async () => {
    a.setLatency({ ttftMs: 200, perTokenMs: 0 });
    b.setLatency({ ttftMs: 200, perTokenMs: 0 });
    // Sampled (temperature > 0), so neither coalescing nor the cache can hide a second run.
    const req = inferenceRequest({ temperature: 0.7 });
    const before = calls();
    await h.publish([req], { copies: 2 });
    await h.results([req.requestId]);
    await until(() => h.source.inProgress === 0);
    const duplicates = sample(await h.metricsText(), 'meditron_proxy_requests_total{outcome="duplicate"}');
    await h.publish([req], { skipRows: true });
    await until(
      async () => sample(await h.metricsText(), 'meditron_proxy_requests_total{outcome="duplicate"}') > duplicates,
    );
    expect(calls() - before).toBe(1);
    const rows = await queryRows(h.db.url, `SELECT 1 FROM inference_results WHERE request_id = $1`, [req.requestId]);
    expect(rows).toHaveLength(1);
  });

  it('coalesces identical requests into one backend call and serves a repeat from the cache', async () => {
    a.setLatency({ ttftMs: 1_000, perTokenMs: 0 });
    b.setLatency({ ttftMs: 1_000, perTokenMs: 0 });
    const prompt = `<|im_start|>user\nsame question ${randomUUID()}<|im_end|>\n`;
    const same = Array.from({ length: 4 }, () => inferenceRequest({ prompt }));
    const before = calls();
    await h.publish(same);
    const rows = await h.results(same.map((r) => r.requestId));
    expect(calls() - before).toBe(1);
    expect(rows.every((r) => r.outcome === 'ok')).toBe(true);
    expect(rows.filter((r) => r.served_from === 'backend')).toHaveLength(1);
    expect(rows.filter((r) => r.served_from === 'coalesced').length).toBeGreaterThanOrEqual(1);

    const repeat = inferenceRequest({ prompt });
    await h.publish([repeat]);
    const [again] = await h.results([repeat.requestId]);
    expect(again).toMatchObject({ outcome: 'ok', served_from: 'cache' });
    expect(calls() - before).toBe(1);
    const metrics = await h.metricsText();
    expect(sample(metrics, 'meditron_proxy_cache_hits_total{source="cache"}')).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'meditron_proxy_cache_hits_total{source="coalesced"}')).toBeGreaterThanOrEqual(1);
  });

  it('keeps serving through a backend that fails: ejects it, then readmits it after recovery', async () => {
    a.injectFault({ kind: 'unavailable' });
    await until(async () => sample(await h.metricsText(), 'meditron_proxy_backend_healthy{backend="vllm@a"}') === 0);
    const reqs = Array.from({ length: 6 }, () => inferenceRequest());
    await h.publish(reqs);
    const rows = await h.results(reqs.map((r) => r.requestId));
    expect(rows.map((r) => r.backend)).toEqual(Array(6).fill('tgi@b'));
    expect(rows.every((r) => r.outcome === 'ok')).toBe(true);

    a.clearFaults();
    await until(async () => sample(await h.metricsText(), 'meditron_proxy_backend_healthy{backend="vllm@a"}') === 1);
    const more = Array.from({ length: 6 }, () => inferenceRequest());
    await h.publish(more);
    const after = await h.results(more.map((r) => r.requestId));
    expect(after.some((r) => r.backend === 'vllm@a')).toBe(true);
  });

  it('dead-letters a poison message once and exposes metrics without request data', async () => {
    const before = sample(await h.metricsText(), 'meditron_proxy_dead_letters_total');
    const id = randomUUID();
    await h.publishRaw(JSON.stringify({ schema: 'inference-request.v0', requestId: id }), {
      'x-correlation-id': id,
      'x-deadline-ms': String(Date.now() + 60_000),
      'x-schema': 'inference-request.v1',
    });
    await until(async () => sample(await h.metricsText(), 'meditron_proxy_dead_letters_total') === before + 1);
    const text = await h.metricsText();
    expect(text).toContain('meditron_proxy_request_duration_seconds_bucket');
    expect(text).toContain('meditron_proxy_backend_calls_total{backend="tgi@b",outcome="ok"}');
    expect(text).not.toContain(id);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  describe('OpenAI-compatible facade', () => {
    const post = (path: string, body: unknown, key: string | null = KEY): Promise<Response> =>
      fetch(`${h.proxy.url}/v1${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(body),
      });

    it('answers governed callers only, lists the model and reports its own overhead', async () => {
      expect((await post('/completions', { model: 'meditron-70b', prompt: 'x' }, null)).status).toBe(401);
      expect((await post('/completions', { model: 'meditron-70b', prompt: 'x' }, 'wrong')).status).toBe(401);
      const models = await fetch(`${h.proxy.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
      expect(((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual([
        'meditron-70b',
      ]);

      const before = calls();
      const res = await post('/completions', { model: 'meditron-70b', prompt: 'synthetic', max_tokens: 8 });
      expect(res.status).toBe(200);
      expect(Number(res.headers.get(OVERHEAD_HEADER))).toBeGreaterThanOrEqual(0);
      const body = (await res.json()) as { choices: Array<{ text: string }> };
      expect(typeof body.choices[0]!.text).toBe('string');
      expect(calls() - before).toBe(1);
      const chat = await post('/chat/completions', {
        model: 'meditron-70b',
        messages: [{ role: 'user', content: 'synthetic' }],
      });
      expect(chat.status).toBe(200);
      // Audited off the response path, so the events land just after the answers.
      let audit: Array<{ actor: string }> = [];
      await until(async () => {
        audit = await queryRows<{ actor: string }>(
          h.db.url,
          `SELECT actor FROM audit_events WHERE action = 'facade.generation' AND outcome = 'success'`,
        );
        return audit.length >= 2;
      });
      expect(audit[0]!.actor).toMatch(/^key:[0-9a-f]{12}$/);
    });

    it('streams token by token: the first event reaches the caller while the backend is still generating', async () => {
      a.setLatency({ ttftMs: 0, perTokenMs: 40 });
      b.setLatency({ ttftMs: 0, perTokenMs: 40 });
      const res = await post('/completions', {
        model: 'meditron-70b',
        prompt: 'synthetic',
        max_tokens: 12,
        stream: true,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(res.headers.get(OVERHEAD_HEADER)).not.toBeNull();
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      expect(a.stats().inFlight + b.stats().inFlight).toBe(1);
      let text = Buffer.from(first.value!).toString();
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        text += Buffer.from(next.value).toString();
      }
      const events = text.split('\n\n').filter((e) => e.startsWith('data: '));
      expect(events.length).toBeGreaterThan(3);
      expect(events.at(-1)).toBe('data: [DONE]');
    });

    it('shifts traffic off an overloaded backend, and a stream cut mid-way ends without [DONE]', async () => {
      a.injectFault({ kind: 'overloaded' });
      for (let i = 0; i < 4; i++) {
        expect((await post('/completions', { model: 'meditron-70b', prompt: `p${i}` })).status).toBe(200);
      }
      // Cooled down after its first 503 (500 ms, doubling on repeats): most traffic never touches it.
      expect(a.stats().faulted).toBeLessThanOrEqual(2);
      a.clearFaults();

      a.setLatency({ ttftMs: 0, perTokenMs: 5 });
      b.setLatency({ ttftMs: 0, perTokenMs: 5 });
      a.injectFault({ kind: 'disconnect', count: 1 });
      b.injectFault({ kind: 'disconnect', count: 1 });
      const res = await post('/completions', { model: 'meditron-70b', prompt: 'cut', max_tokens: 8, stream: true });
      const text = await res.text().catch(() => '');
      expect(text).not.toContain('[DONE]');
    });
  });
});
