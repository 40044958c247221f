import { defaultJsonAnswer, promptDigest, startModelDouble, type ModelDouble } from '@app/model-double';
import { arr, getJson, obj, postJson } from './spec-support';

const chat = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('model double faults', () => {
  let double: ModelDouble;
  beforeEach(async () => {
    // A queue limit (--max-num-queued-reqs) makes vLLM's overload a 503; see overload.spec for the default.
    double = await startModelDouble({ maxNumQueuedReqs: 64 });
  });
  afterEach(() => double.close());

  it("'overloaded' on vllm with a queue limit: 503 in the OpenAI shape for `count` requests, then answers again", async () => {
    double.injectFault({ kind: 'overloaded', count: 2 });
    const first = await postJson(`${double.baseUrl}/chat/completions`, chat('a'));
    expect(first.status).toBe(503);
    expect(first.json).toEqual({
      error: { message: expect.any(String), type: 'ServiceUnavailableError', param: null, code: 503 },
    });
    expect((await fetch(`${double.url}/health`)).status).toBe(200); // overloaded, not down
    expect((await postJson(`${double.baseUrl}/completions`, { prompt: 'b' })).status).toBe(503);
    expect((await postJson(`${double.baseUrl}/chat/completions`, chat('c'))).status).toBe(200);
    expect(double.stats()).toEqual({ received: 3, answered: 1, faulted: 2, inFlight: 0 });
  });

  it('faults do not consume enqueued responses', async () => {
    double.enqueueResponse('kept for later');
    double.injectFault({ kind: 'overloaded', count: 1 });
    expect((await postJson(`${double.baseUrl}/completions`, { prompt: 'x' })).status).toBe(503);
    const ok = await postJson(`${double.baseUrl}/completions`, { prompt: 'x' });
    expect(obj(arr(obj(ok.json)['choices'])[0])['text']).toBe('kept for later');
  });

  it("'unavailable': 503 on everything including /health until cleared", async () => {
    double.injectFault({ kind: 'unavailable' });
    expect((await fetch(`${double.url}/health`)).status).toBe(503);
    expect((await getJson(`${double.baseUrl}/models`)).status).toBe(503);
    const gen = await postJson(`${double.baseUrl}/chat/completions`, chat('x'));
    expect(gen.status).toBe(503);
    expect(obj(gen.json)['error']).toMatchObject({ code: 503 });
    expect((await postJson(`${double.baseUrl}/chat/completions`, chat('y'))).status).toBe(503);
    expect((await fetch(`${double.url}/metrics`)).status).toBe(200); // still observable
    double.clearFaults();
    expect((await fetch(`${double.url}/health`)).status).toBe(200);
    expect((await postJson(`${double.baseUrl}/chat/completions`, chat('z'))).status).toBe(200);
  });

  it('marks each faulted request in the recording, model listings included, so a count of runs can leave them out', async () => {
    expect((await postJson(`${double.baseUrl}/completions`, { prompt: 'before' })).status).toBe(200);
    double.injectFault({ kind: 'unavailable' });
    expect((await getJson(`${double.baseUrl}/models`)).status).toBe(503);
    expect((await postJson(`${double.baseUrl}/completions`, { prompt: 'during' })).status).toBe(503);
    double.clearFaults();
    expect((await postJson(`${double.baseUrl}/completions`, { prompt: 'after' })).status).toBe(200);
    expect(double.requests().map((r) => [r.path, r.faulted ?? false])).toEqual([
      ['/v1/completions', false],
      ['/v1/models', true],
      ['/v1/completions', true],
      ['/v1/completions', false],
    ]);
    // The counter counts both faulted requests; only one of them was a generation.
    expect(double.stats().faulted).toBe(2);
  });

  it("'unavailable' with a count is used up by generation requests only, not by health probes", async () => {
    double.injectFault({ kind: 'unavailable', count: 1 });
    expect((await fetch(`${double.url}/health`)).status).toBe(503);
    expect((await fetch(`${double.url}/health`)).status).toBe(503);
    expect((await postJson(`${double.baseUrl}/completions`, { prompt: 'x' })).status).toBe(503);
    expect((await fetch(`${double.url}/health`)).status).toBe(200);
  });

  it("'disconnect' drops the connection of a non-streamed request without an answer", async () => {
    double.injectFault({ kind: 'disconnect', count: 1 });
    await expect(postJson(`${double.baseUrl}/chat/completions`, chat('x'))).rejects.toThrow();
    expect(double.requests()).toHaveLength(1); // the request was read before the drop
    expect((await postJson(`${double.baseUrl}/chat/completions`, chat('x'))).status).toBe(200);
    expect(double.stats()).toEqual({ received: 2, answered: 1, faulted: 1, inFlight: 0 });
  });

  it("'disconnect' cuts a stream after its first token chunk", async () => {
    double.injectFault({ kind: 'disconnect', count: 1 });
    const res = await fetch(`${double.baseUrl}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', stream: true }),
    });
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    let received = '';
    const drain = async (): Promise<void> => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += decoder.decode(value, { stream: true });
      }
    };
    await expect(drain()).rejects.toThrow();
    expect(received).toMatch(/^data: \{.*"text":"Model".*\}\n\n$/);
    expect(received).not.toContain('[DONE]');
  });

  it("'malformed' answers 200 with the default JSON answer cut mid-way and finish_reason 'length'", async () => {
    double.injectFault({ kind: 'malformed', count: 1 });
    const prompt = 'structured please';
    const body = chat(prompt, { response_format: { type: 'json_object' } });
    const { status, json } = await postJson(`${double.baseUrl}/chat/completions`, body);
    expect(status).toBe(200);
    const choice = obj(arr(obj(json)['choices'])[0]);
    expect(choice['finish_reason']).toBe('length');
    const content = String(obj(choice['message'])['content']);
    expect(() => JSON.parse(content) as unknown).toThrow(SyntaxError);
    const whole = defaultJsonAnswer(prompt);
    expect(whole.startsWith(content)).toBe(true);
    expect(content.length).toBeGreaterThan(whole.length / 4);
    expect(content.length).toBeLessThan(whole.length);
    expect(double.stats()).toMatchObject({ answered: 1, faulted: 1 });
    // used up: the next answer parses again and names its prompt
    const next = await postJson(`${double.baseUrl}/chat/completions`, body);
    const nextContent = String(obj(obj(arr(obj(next.json)['choices'])[0])['message'])['content']);
    expect(JSON.stringify(JSON.parse(nextContent))).toContain(promptDigest(prompt));
  });

  it("'malformed' also cuts a streamed answer", async () => {
    double.injectFault({ kind: 'malformed' });
    const res = await fetch(`${double.baseUrl}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'p', stream: true, response_format: { type: 'json_object' } }),
    });
    const text = await res.text();
    const events = text
      .split('\n\n')
      .filter(Boolean)
      .map((e) => e.slice('data: '.length));
    expect(events.at(-1)).toBe('[DONE]');
    const choices = events.slice(0, -1).map((e) => obj(arr(obj(JSON.parse(e))['choices'])[0]));
    const content = choices.map((c) => String(c['text'])).join('');
    expect(() => JSON.parse(content) as unknown).toThrow(SyntaxError);
    expect(choices.at(-1)?.['finish_reason']).toBe('length');
  });

  it("'slow' adds delayMs before answering", async () => {
    double.injectFault({ kind: 'slow', delayMs: 150, count: 1 });
    let started = Date.now();
    expect((await postJson(`${double.baseUrl}/completions`, { prompt: 'x' })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    started = Date.now();
    await postJson(`${double.baseUrl}/completions`, { prompt: 'x' });
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('queued plans apply in order', async () => {
    double.injectFault({ kind: 'overloaded', count: 1 });
    double.injectFault({ kind: 'unavailable', count: 1 });
    const status = async (): Promise<number> =>
      (await postJson(`${double.baseUrl}/completions`, { prompt: 'x' })).status;
    expect(await status()).toBe(503);
    expect((await fetch(`${double.url}/health`)).status).toBe(503);
    expect(await status()).toBe(503);
    expect(await status()).toBe(200);
  });

  it('validation errors come before faults and do not use them up', async () => {
    double.injectFault({ kind: 'overloaded', count: 1 });
    expect((await postJson(`${double.baseUrl}/completions`, { prompt: 1 })).status).toBe(400);
    expect((await postJson(`${double.baseUrl}/completions`, { prompt: 'x', model: 'other' })).status).toBe(404);
    expect((await postJson(`${double.baseUrl}/completions`, { prompt: 'x' })).status).toBe(503);
  });

  it('rejects bad plans in process', () => {
    expect(() => double.injectFault({ kind: 'slow' })).toThrow(/delayMs/);
    expect(() => double.injectFault({ kind: 'overloaded', count: 0 })).toThrow(TypeError);
    expect(() => double.setLatency({ ttftMs: -1, perTokenMs: 0 })).toThrow(TypeError);
  });
});

describe('model double faults (tgi flavour)', () => {
  it("'overloaded' answers 429 in TGI's own error shape", async () => {
    const double = await startModelDouble({ flavour: 'tgi' });
    try {
      double.injectFault({ kind: 'overloaded' });
      const { status, json } = await postJson(`${double.baseUrl}/chat/completions`, chat('x'));
      expect(status).toBe(429);
      expect(json).toEqual({ error: 'Model is overloaded', error_type: 'overloaded' });
    } finally {
      await double.close();
    }
  });
});
