/**
 * vLLM's defaults and length messages, held to the source (CONFORMANCE.md, vLLM flavour): completions without
 * max_tokens get 16 (protocol.py `CompletionRequest.max_tokens = 16`); completions are length-checked by the
 * renderer (renderer.py), chat by serving_engine.py `_validate_input`, worded differently with and without
 * max_tokens.
 */
import { startModelDouble, type ModelDouble } from '@app/model-double';

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

const words = (n: number): string => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

describe('model double: vLLM defaults (protocol.py, serving_engine.py)', () => {
  let d: ModelDouble | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('completions without max_tokens stop at 16 tokens (finish length); an explicit null takes the rest', async () => {
    d = await startModelDouble({ flavour: 'vllm', mode: 'base' });
    const capped = await post(`${d.baseUrl}/completions`, { model: 'meditron-70b', prompt: '### User: case' });
    expect(capped.json).toMatchObject({
      choices: [{ finish_reason: 'length' }],
      usage: { completion_tokens: 16 },
    });
    const open = await post(`${d.baseUrl}/completions`, {
      model: 'meditron-70b',
      prompt: '### User: case',
      max_tokens: null,
    });
    expect((open.json as { usage: { completion_tokens: number } }).usage.completion_tokens).toBeGreaterThan(16);
  });

  it('the 16-token default counts against --max-model-len on completions', async () => {
    d = await startModelDouble({ flavour: 'vllm', limits: { maxModelLen: 20 } });
    expect((await post(`${d.baseUrl}/completions`, { model: 'meditron-70b', prompt: words(4) })).status).toBe(200);
    const r = await post(`${d.baseUrl}/completions`, { model: 'meditron-70b', prompt: words(5) });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({
      error: {
        message: expect.stringMatching(
          /^This model's maximum context length is 4 tokens\. However, your request has 5 input tokens\./,
        ),
      },
    });
  });

  it('chat with max_tokens: "you requested T tokens (P in the messages, M in the completion)"', async () => {
    d = await startModelDouble({ flavour: 'vllm', limits: { maxModelLen: 20 } });
    const r = await post(`${d.baseUrl}/chat/completions`, {
      model: 'meditron-70b',
      messages: [{ role: 'user', content: words(10) }],
      max_tokens: 11,
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({
      error: {
        message:
          "This model's maximum context length is 20 tokens. However, you requested 21 tokens (10 in the messages, 11 in the completion). Please reduce the length of the messages or completion.",
      },
    });
  });

  it('chat without max_tokens checks the prompt alone, with vLLM\'s "in the messages, Please" wording', async () => {
    d = await startModelDouble({ flavour: 'vllm', limits: { maxModelLen: 20 } });
    const messages = (n: number): object[] => [{ role: 'user', content: words(n) }];
    const fits = await post(`${d.baseUrl}/chat/completions`, { model: 'meditron-70b', messages: messages(19) });
    expect(fits.status).toBe(200);
    const full = await post(`${d.baseUrl}/chat/completions`, { model: 'meditron-70b', messages: messages(20) });
    expect(full.status).toBe(400);
    expect(full.json).toMatchObject({
      error: {
        message:
          "This model's maximum context length is 20 tokens. However, you requested 20 tokens in the messages, Please reduce the length of the messages.",
      },
    });
  });

  it('/v1/models cards carry max_model_len and one default ModelPermission (protocol.py ModelCard)', async () => {
    d = await startModelDouble({ flavour: 'vllm', model: 'meditron-70b', limits: { maxModelLen: 4096 } });
    const res = await fetch(`${d.baseUrl}/models`);
    expect(await res.json()).toMatchObject({
      object: 'list',
      data: [
        {
          id: 'meditron-70b',
          object: 'model',
          owned_by: 'vllm',
          max_model_len: 4096,
          permission: [{ object: 'model_permission', allow_sampling: true, organization: '*', is_blocking: false }],
        },
      ],
    });
  });
});
