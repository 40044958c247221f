import { request as httpRequest, Agent } from 'node:http';
import {
  chatPromptText,
  countTokens,
  defaultTextAnswer,
  promptDigest,
  startModelDouble,
  type ModelDouble,
} from '@app/model-double';
import { arr, getJson, obj, parseSse, postJson } from './spec-support';

describe('model double: endpoints (vllm flavour)', () => {
  let double: ModelDouble;

  beforeEach(async () => {
    double = await startModelDouble({ port: 0 });
  });
  afterEach(() => double.close());

  it('listens on a free port of 127.0.0.1 and names its OpenAI base URL', () => {
    expect(double.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(double.url).not.toMatch(/:0$/);
    expect(double.baseUrl).toBe(`${double.url}/v1`);
    expect(double.flavour).toBe('vllm');
  });

  it('GET /health answers 200 with an empty body', async () => {
    const res = await fetch(`${double.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('GET /v1/models lists the served model', async () => {
    const { status, json } = await getJson(`${double.baseUrl}/models`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ object: 'list', data: [{ id: 'meditron-70b', object: 'model' }] });
  });

  it('POST /v1/completions answers the default text with consistent usage', async () => {
    const prompt = 'Patient: 67 y/o, eGFR 28. Metformin 1 g bid?';
    const { status, json } = await postJson(`${double.baseUrl}/completions`, {
      model: 'meditron-70b',
      prompt,
      max_tokens: 64,
      temperature: 0,
    });
    expect(status).toBe(200);
    const body = obj(json);
    expect(body).toMatchObject({ object: 'text_completion', model: 'meditron-70b' });
    expect(String(body['id'])).toMatch(/^cmpl-/);
    const choice = obj(arr(body['choices'])[0]);
    expect(choice['text']).toBe(`Model double answer for prompt ${promptDigest(prompt)}`);
    expect(choice['finish_reason']).toBe('stop');
    expect(body['usage']).toEqual({
      prompt_tokens: countTokens(prompt),
      completion_tokens: 6,
      total_tokens: countTokens(prompt) + 6,
    });
  });

  it('POST /v1/chat/completions answers as the assistant, digesting every message', async () => {
    const messages = [
      { role: 'system', content: 'You are a CDS reviewer.' },
      { role: 'user', content: 'Review this medication list.' },
    ] as const;
    const { status, json } = await postJson(`${double.baseUrl}/chat/completions`, { model: 'meditron-70b', messages });
    expect(status).toBe(200);
    const body = obj(json);
    expect(body['object']).toBe('chat.completion');
    const choice = obj(arr(body['choices'])[0]);
    expect(obj(choice['message'])).toMatchObject({
      role: 'assistant',
      content: defaultTextAnswer(chatPromptText([...messages])),
    });
    expect(chatPromptText([...messages])).toBe('You are a CDS reviewer.\nReview this medication list.');
  });

  it.each([
    ['openai_json_schema', { type: 'json_schema', json_schema: { name: 'cds', schema: { type: 'object' } } }],
    ['json_object', { type: 'json_object' }],
  ])('answers structured output as findings JSON and records the %s shape', async (shape, responseFormat) => {
    const prompt = `structured ${shape}`;
    const { status, json } = await postJson(`${double.baseUrl}/chat/completions`, {
      messages: [{ role: 'user', content: prompt }],
      response_format: responseFormat,
      max_tokens: 2, // JSON is never cut by max_tokens
    });
    expect(status).toBe(200);
    const choice = obj(arr(obj(json)['choices'])[0]);
    expect(choice['finish_reason']).toBe('stop');
    const content = String(obj(choice['message'])['content']);
    const findings = arr(obj(JSON.parse(content))['findings']);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      summary: `Model double reviewed prompt ${promptDigest(prompt)}`,
      indicator: 'info',
      evidence: [],
    });
    expect(double.requests().at(-1)?.responseFormat).toBe(shape);
  });

  it('caps a plain-text answer at max_tokens with finish_reason "length"', async () => {
    const { json } = await postJson(`${double.baseUrl}/completions`, { prompt: 'cap me', max_tokens: 3 });
    const body = obj(json);
    expect(obj(arr(body['choices'])[0])).toMatchObject({ text: 'Model double answer', finish_reason: 'length' });
    expect(obj(body['usage'])['completion_tokens']).toBe(3);
  });

  it('answers enqueued texts exactly, first in first out, then the default again', async () => {
    double.enqueueResponse('first answer');
    double.enqueueResponse('{"findings": []}');
    const ask = async (): Promise<unknown> => {
      const { json } = await postJson(`${double.baseUrl}/completions`, { prompt: 'q', max_tokens: 1 });
      return obj(arr(obj(json)['choices'])[0])['text'];
    };
    expect(await ask()).toBe('first answer');
    expect(await ask()).toBe('{"findings": []}');
    expect(await ask()).toBe('Model'); // default, capped at max_tokens 1
  });

  it('rejects an unknown model with 404 in the OpenAI error shape', async () => {
    const { status, json } = await postJson(`${double.baseUrl}/chat/completions`, {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(status).toBe(404);
    expect(json).toEqual({
      error: { message: 'The model `gpt-4o` does not exist.', type: 'NotFoundError', param: 'model', code: 404 },
    });
  });

  it.each([
    ['missing messages', { model: 'meditron-70b' }],
    ['a bad role', { messages: [{ role: 'wizard', content: 'x' }] }],
    ['a negative max_tokens', { messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }],
    ['an unknown response_format', { messages: [{ role: 'user', content: 'x' }], response_format: { type: 'yaml' } }],
    ['text that is not JSON', '{"messages": ['],
  ])('rejects a chat body with %s as 400 in the OpenAI error shape', async (_label, body) => {
    const { status, json } = await postJson(`${double.baseUrl}/chat/completions`, body);
    expect(status).toBe(400);
    expect(obj(json)['error']).toMatchObject({ type: 'BadRequestError', code: 400, message: expect.any(String) });
  });

  it('rejects a completion whose prompt is not a string', async () => {
    const { status, json } = await postJson(`${double.baseUrl}/completions`, { prompt: 42 });
    expect(status).toBe(400);
    expect(String(obj(obj(json)['error'])['message'])).toContain('prompt');
  });

  it('answers unknown routes 404 and wrong methods 405', async () => {
    expect((await getJson(`${double.url}/v2/nothing`)).status).toBe(404);
    expect((await getJson(`${double.baseUrl}/completions`)).status).toBe(405);
  });

  it('streams a completion as one SSE chunk per token, then usage and [DONE]', async () => {
    const prompt = 'stream me';
    const res = await fetch(`${double.baseUrl}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt, stream: true, stream_options: { include_usage: true } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const raw = await res.text();
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
    const events = parseSse(raw);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => obj(JSON.parse(e)));
    const usage = obj(chunks.at(-1)?.['usage']);
    expect(arr(chunks.at(-1)?.['choices'])).toHaveLength(0);
    const tokenTexts = chunks.slice(0, -2).map((c) => obj(arr(c['choices'])[0])['text']);
    expect(tokenTexts.join('')).toBe(defaultTextAnswer(prompt));
    expect(tokenTexts).toHaveLength(usage['completion_tokens'] as number);
    expect(obj(arr(chunks.at(-2)?.['choices'])[0])).toMatchObject({ text: '', finish_reason: 'stop' });
    expect(new Set(chunks.map((c) => c['id'])).size).toBe(1);
  });

  it('streams a chat answer: a role chunk, content deltas, a finish chunk', async () => {
    double.enqueueResponse('Hold metformin; eGFR < 30.');
    const res = await fetch(`${double.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    const events = parseSse(await res.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => obj(JSON.parse(e)));
    const choices = chunks.map((c) => obj(arr(c['choices'])[0]));
    expect(chunks.every((c) => c['object'] === 'chat.completion.chunk')).toBe(true);
    expect(choices[0]?.['delta']).toEqual({ role: 'assistant', content: '' });
    expect(choices.at(-1)).toMatchObject({ delta: {}, finish_reason: 'stop' });
    const deltas = choices.slice(1, -1).map((c) => obj(c['delta'])['content']);
    expect(deltas.join('')).toBe('Hold metformin; eGFR < 30.');
    expect(deltas).toHaveLength(countTokens('Hold metformin; eGFR < 30.'));
  });

  it('records path, parsed body and lowercased headers of model-API requests only', async () => {
    await fetch(`${double.url}/health`);
    await fetch(`${double.url}/metrics`);
    await fetch(`${double.baseUrl}/completions?trace=1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Request-ID': 'abc-123' },
      body: JSON.stringify({ prompt: 'recorded' }),
    });
    const recorded = double.requests();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      method: 'POST',
      path: '/v1/completions',
      body: { prompt: 'recorded' },
      responseFormat: 'none',
      headers: expect.objectContaining({ 'x-request-id': 'abc-123', 'content-type': 'application/json' }),
    });
    expect(double.stats()).toEqual({ received: 1, answered: 1, faulted: 0, inFlight: 0 });
  });

  it('serves concurrent requests', async () => {
    double.setLatency({ ttftMs: 20, perTokenMs: 5 });
    const started = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 25 }, (_, i) => postJson(`${double.baseUrl}/completions`, { prompt: `p${i}` })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(25).fill(200));
    const texts = replies.map((r) => obj(arr(obj(r.json)['choices'])[0])['text']);
    expect(new Set(texts).size).toBe(25);
    expect(Date.now() - started).toBeLessThan(25 * 50); // overlapped, not one after another
    expect(double.stats()).toMatchObject({ received: 25, answered: 25, inFlight: 0 });
  });
});

describe('model double: lifecycle', () => {
  it('keeps connections alive and still closes promptly', async () => {
    const double = await startModelDouble();
    const agent = new Agent({ keepAlive: true });
    const get = (): Promise<{ status: number; socketReused: boolean }> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${double.url}/v1/models`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, socketReused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get()).toEqual({ status: 200, socketReused: false });
    expect(await get()).toEqual({ status: 200, socketReused: true });

    const started = Date.now();
    await double.close();
    expect(Date.now() - started).toBeLessThan(500);
    agent.destroy();
  });

  it('closes promptly while a slow stream is in flight, and the client sees the cut', async () => {
    const double = await startModelDouble({ latency: { ttftMs: 0, perTokenMs: 1000 } });
    const res = await fetch(`${double.baseUrl}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'long', stream: true }),
    });
    const reader = res.body?.getReader();
    expect(reader).toBeDefined();
    await reader?.read(); // the first token
    const started = Date.now();
    await double.close();
    expect(Date.now() - started).toBeLessThan(500);
    await expect(
      (async () => {
        for (;;) if ((await reader?.read())?.done !== false) return;
      })(),
    ).rejects.toThrow();
  });

  it('close() can be called twice', async () => {
    const double = await startModelDouble();
    await Promise.all([double.close(), double.close()]);
    await expect(fetch(`${double.url}/health`)).rejects.toThrow();
  });
});

describe('model double: tgi flavour', () => {
  let double: ModelDouble;
  beforeEach(async () => {
    double = await startModelDouble({ flavour: 'tgi', model: 'epfl-llm/meditron-7b' });
  });
  afterEach(() => double.close());

  it('ignores the model name (TGI documents `model` as unused) and lists its model id', async () => {
    const ask = (model: string): Promise<number> =>
      postJson(`${double.baseUrl}/chat/completions`, { model, messages: [{ role: 'user', content: 'x' }] }).then(
        (r) => r.status,
      );
    expect(await ask('epfl-llm/meditron-7b')).toBe(200);
    expect(await ask('tgi')).toBe(200);
    expect(await ask('meditron-70b')).toBe(200);
    expect((await getJson(`${double.baseUrl}/models`)).json).toMatchObject({
      data: [{ id: 'epfl-llm/meditron-7b' }],
    });
  });
});
