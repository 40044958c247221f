/**
 * The double held to the real servers: every behaviour here is one CONFORMANCE.md traces to upstream source
 * (file and version). A test fails if the double accepts what the server refuses, or enforces what it ignores.
 */
import { findingsJsonSchema } from '@app/prompts';
import { startModelDouble, type ModelDouble, type ModelDoubleOptions } from '@app/model-double';

interface Reply {
  status: number;
  type: string;
  text: string;
}

async function post(url: string, body: unknown): Promise<Reply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

const schema = findingsJsonSchema;
const messages = [{ role: 'user', content: 'case' }];
const openAiFormat = { type: 'json_schema', json_schema: { name: 'findings', schema, strict: true } };
const tgiFormat = { type: 'json_schema', value: { name: 'findings', schema } };

describe('model double conformance', () => {
  const doubles: ModelDouble[] = [];
  const start = async (o: ModelDoubleOptions): Promise<ModelDouble> => {
    const d = await startModelDouble(o);
    doubles.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of doubles.splice(0)) await d.close();
  });
  const structuredOf = (d: ModelDouble): boolean | undefined => d.requests().at(-1)?.structured;

  describe('TGI v3.3.4 (router/src/lib.rs, validation.rs, server.rs)', () => {
    it('/v1/completions ignores response_format: the answer is free text, no grammar', async () => {
      const d = await start({ flavour: 'tgi' });
      const r = await post(`${d.baseUrl}/completions`, { prompt: 'case', max_tokens: 50, response_format: tgiFormat });
      expect(r.status).toBe(200);
      expect(structuredOf(d)).toBe(false);
      expect(
        () => JSON.parse((JSON.parse(r.text) as { choices: Array<{ text: string }> }).choices[0]!.text) as unknown,
      ).toThrow();
    });

    it("chat refuses a bare schema as json_schema value with axum's 422 (missing field `schema`)", async () => {
      const d = await start({ flavour: 'tgi' });
      const r = await post(`${d.baseUrl}/chat/completions`, {
        messages,
        response_format: { type: 'json_schema', value: schema },
      });
      expect(r.status).toBe(422);
      expect(r.type).toMatch(/text\/plain/);
      expect(r.text).toMatch(/missing field `schema`/);
    });

    it("chat refuses OpenAI's json_schema shape (no `value`) with 422", async () => {
      const d = await start({ flavour: 'tgi' });
      const r = await post(`${d.baseUrl}/chat/completions`, { messages, response_format: openAiFormat });
      expect(r.status).toBe(422);
      expect(r.text).toMatch(/missing field `value`/);
    });

    it('chat enforces {type: json_schema, value: {name, schema}} from 3.3 and {type: json, value} always', async () => {
      const d = await start({ flavour: 'tgi' });
      for (const format of [tgiFormat, { type: 'json', value: schema }]) {
        const r = await post(`${d.baseUrl}/chat/completions`, { messages, response_format: format });
        expect(r.status).toBe(200);
        expect(structuredOf(d)).toBe(true);
      }
    });

    it('before 3.3 (v3.2.3) json_schema is an unknown variant: 422; json still works', async () => {
      const d = await start({ flavour: 'tgi', tgiVersion: '3.2.3' });
      expect((await post(`${d.baseUrl}/chat/completions`, { messages, response_format: tgiFormat })).status).toBe(422);
      expect(
        (await post(`${d.baseUrl}/chat/completions`, { messages, response_format: { type: 'json', value: schema } }))
          .status,
      ).toBe(200);
      expect(await (await fetch(`${d.url}/info`)).json()).toMatchObject({ version: '3.2.3' });
    });

    it('a grammar schema without top-level properties is a validation 422', async () => {
      const d = await start({ flavour: 'tgi' });
      const r = await post(`${d.baseUrl}/chat/completions`, {
        messages,
        response_format: { type: 'json', value: { type: 'object' } },
      });
      expect(r.status).toBe(422);
      expect(JSON.parse(r.text)).toEqual({ error: expect.stringMatching(/properties/), error_type: 'validation' });
    });

    it('/generate enforces parameters.grammar and refuses temperature 0', async () => {
      const d = await start({ flavour: 'tgi' });
      const grammar = { type: 'json', value: schema };
      const ok = await post(`${d.url}/generate`, {
        inputs: 'case',
        parameters: { max_new_tokens: 64, grammar, details: true },
      });
      expect(ok.status).toBe(200);
      const body = JSON.parse(ok.text) as { generated_text: string; details: { finish_reason: string } };
      expect(JSON.parse(body.generated_text)).toHaveProperty('findings');
      expect(body.details.finish_reason).toBe('eos_token');
      const cold = await post(`${d.url}/generate`, { inputs: 'case', parameters: { temperature: 0, grammar } });
      expect(cold.status).toBe(422);
      expect(JSON.parse(cold.text)).toMatchObject({ error: '`temperature` must be strictly positive' });
    });

    it('an input over --max-input-tokens or over --max-total-tokens is a 422 naming the limit', async () => {
      const d = await start({ flavour: 'tgi', limits: { maxInputTokens: 10, maxTotalTokens: 40 } });
      const long = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
      const input = await post(`${d.baseUrl}/completions`, { prompt: long, max_tokens: 5 });
      expect(input.status).toBe(422);
      expect(JSON.parse(input.text)).toEqual({
        error: '`inputs` must have less than 10 tokens. Given: 20',
        error_type: 'validation',
      });
      const total = await post(`${d.baseUrl}/completions`, { prompt: 'short', max_tokens: 100 });
      expect(total.status).toBe(422);
      expect(total.text).toMatch(/`inputs` tokens \+ `max_new_tokens` must be <= 40/);
    });

    it('more than 4 stop sequences (launcher default --max-stop-sequences) is a 422', async () => {
      const d = await start({ flavour: 'tgi' });
      const r = await post(`${d.baseUrl}/completions`, { prompt: 'x', stop: ['a', 'b', 'c', 'd', 'e'] });
      expect(r.status).toBe(422);
      expect(r.text).toMatch(/supports up to 4 stop sequences/);
    });

    it('a generation error is 424 {error_type: generation}; overload is 429', async () => {
      const d = await start({ flavour: 'tgi' });
      d.injectFault({ kind: 'generation_error', count: 1 });
      const failed = await post(`${d.baseUrl}/chat/completions`, { messages });
      expect(failed.status).toBe(424);
      expect(JSON.parse(failed.text)).toMatchObject({ error_type: 'generation' });
      d.injectFault({ kind: 'overloaded', count: 1 });
      expect((await post(`${d.baseUrl}/chat/completions`, { messages })).status).toBe(429);
    });

    it('/info reports version and limits; /v1/models lists the model id', async () => {
      const d = await start({
        flavour: 'tgi',
        model: 'epfl-llm/meditron-70b',
        limits: { maxInputTokens: 3584, maxTotalTokens: 4096 },
      });
      expect(await (await fetch(`${d.url}/info`)).json()).toMatchObject({
        model_id: 'epfl-llm/meditron-70b',
        version: '3.3.4',
        max_input_tokens: 3584,
        max_total_tokens: 4096,
      });
    });
  });

  describe('vLLM 0.10-0.13 (entrypoints/openai/protocol.py, serving_engine.py)', () => {
    it('enforces OpenAI json_schema on completions and chat', async () => {
      const d = await start({ flavour: 'vllm' });
      const c = await post(`${d.baseUrl}/completions`, {
        model: 'meditron-70b',
        prompt: 'case',
        response_format: openAiFormat,
      });
      expect(c.status).toBe(200);
      expect(structuredOf(d)).toBe(true);
      const chat = await post(`${d.baseUrl}/chat/completions`, {
        model: 'meditron-70b',
        messages,
        response_format: openAiFormat,
      });
      expect(chat.status).toBe(200);
      expect(structuredOf(d)).toBe(true);
    });

    it("refuses TGI's shapes with 400 (type is a closed Literal; json_schema needs its schema)", async () => {
      const d = await start({ flavour: 'vllm' });
      for (const format of [{ type: 'json', value: schema }, tgiFormat]) {
        const r = await post(`${d.baseUrl}/chat/completions`, {
          model: 'meditron-70b',
          messages,
          response_format: format,
        });
        expect(r.status).toBe(400);
      }
    });

    it('completions over --max-model-len: 400 naming the room max_tokens leaves (renderer.py)', async () => {
      const d = await start({ flavour: 'vllm', limits: { maxModelLen: 16 } });
      const ask = (prompt: string): Promise<Reply> =>
        post(`${d.baseUrl}/completions`, { model: 'meditron-70b', prompt, max_tokens: 10 });
      expect((await ask('one two three four five six')).status).toBe(200);
      const r = await ask('one two three four five six seven');
      expect(r.status).toBe(400);
      expect(JSON.parse(r.text)).toMatchObject({
        error: {
          message:
            "This model's maximum context length is 6 tokens. However, your request has 7 input tokens. Please reduce the length of the input messages.",
          type: 'BadRequestError',
          code: 400,
        },
      });
      expect(await (await fetch(`${d.baseUrl}/models`)).json()).toMatchObject({ data: [{ max_model_len: 16 }] });
    });

    it('overload without --max-num-queued-reqs waits in the queue (num_requests_waiting), never 503', async () => {
      const d = await start({ flavour: 'vllm' });
      d.injectFault({ kind: 'overloaded', count: 1, delayMs: 300 });
      const pending = post(`${d.baseUrl}/completions`, { model: 'meditron-70b', prompt: 'x' });
      await new Promise((r) => setTimeout(r, 100));
      expect(await (await fetch(`${d.url}/metrics`)).text()).toMatch(/vllm:num_requests_waiting\{[^}]*\} 1\.0/);
      expect((await pending).status).toBe(200);
    });

    it('with --max-num-queued-reqs, a full queue answers 503', async () => {
      const d = await start({ flavour: 'vllm', maxNumQueuedReqs: 1, latency: { ttftMs: 300, perTokenMs: 0 } });
      const first = post(`${d.baseUrl}/completions`, { model: 'meditron-70b', prompt: 'x' });
      await new Promise((r) => setTimeout(r, 50));
      expect((await post(`${d.baseUrl}/completions`, { model: 'meditron-70b', prompt: 'y' })).status).toBe(503);
      expect((await first).status).toBe(200);
    });

    it('a generation error is a bare 500 with no body (launcher.py runtime_exception_handler)', async () => {
      const d = await start({ flavour: 'vllm' });
      d.injectFault({ kind: 'generation_error', count: 1 });
      const r = await post(`${d.baseUrl}/completions`, { model: 'meditron-70b', prompt: 'x' });
      expect(r.status).toBe(500);
      expect(r.text).toBe('');
    });

    it('has no /generate and no /info', async () => {
      const d = await start({ flavour: 'vllm' });
      expect((await post(`${d.url}/generate`, { inputs: 'x' })).status).toBe(404);
      expect((await fetch(`${d.url}/info`)).status).toBe(404);
    });
  });

  describe('base-model mode (a foundation model without a grammar)', () => {
    const prompt = 'SYS\n### User: case\n  P1: Atrial fibrillation\n### Assistant:';

    it('runs on past the answer, inventing turns, until max_tokens', async () => {
      const d = await start({ flavour: 'vllm', mode: 'base' });
      const r = JSON.parse(
        (await post(`${d.baseUrl}/completions`, { model: 'meditron-70b', prompt, max_tokens: 400 })).text,
      ) as {
        choices: Array<{ text: string; finish_reason: string }>;
      };
      expect(r.choices[0]!.text).toMatch(/\n### User: /);
      expect(r.choices[0]!.finish_reason).toBe('length');
      expect(() => JSON.parse(r.choices[0]!.text) as unknown).toThrow();
    });

    it('vLLM cuts at the first stop string and leaves it out: the answer parses', async () => {
      const d = await start({ flavour: 'vllm', mode: 'base' });
      const r = JSON.parse(
        (
          await post(`${d.baseUrl}/completions`, {
            model: 'meditron-70b',
            prompt,
            max_tokens: 400,
            stop: ['</s>', '###', 'Assistant:', 'User:'],
          })
        ).text,
      ) as { choices: Array<{ text: string; finish_reason: string }> };
      expect(r.choices[0]!.finish_reason).toBe('stop');
      expect(r.choices[0]!.text).not.toMatch(/###/);
      expect(JSON.parse(r.choices[0]!.text)).toMatchObject({ findings: [{ evidence: ['P1'] }] });
    });

    it('TGI keeps the stop string at the end of the text (finish stop_sequence on /generate)', async () => {
      const d = await start({ flavour: 'tgi', mode: 'base' });
      const r = JSON.parse(
        (
          await post(`${d.url}/generate`, {
            inputs: prompt,
            parameters: { max_new_tokens: 400, stop: ['###'], details: true },
          })
        ).text,
      ) as { generated_text: string; details: { finish_reason: string } };
      expect(r.generated_text.endsWith('\n###')).toBe(true);
      expect(r.details.finish_reason).toBe('stop_sequence');
    });

    it('with a grammar it writes only the JSON', async () => {
      const d = await start({ flavour: 'vllm', mode: 'base' });
      const r = JSON.parse(
        (
          await post(`${d.baseUrl}/completions`, {
            model: 'meditron-70b',
            prompt,
            max_tokens: 400,
            response_format: openAiFormat,
          })
        ).text,
      ) as { choices: Array<{ text: string }> };
      expect(JSON.parse(r.choices[0]!.text)).toHaveProperty('findings');
    });
  });
});
