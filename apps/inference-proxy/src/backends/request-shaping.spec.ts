import { MODEL_PROFILES, buildPrompt, findingsJsonSchema, summarize } from '@app/prompts';
import type { BackendFacts } from './backend-facts';
import { poolContextTokens, tgiTakesJsonSchema } from './backend-facts';
import { classifyHttpError } from './http-error-class';
import { shapeRequest, withoutTrailingStop, type Generation } from './request-shaping';

const facts = (version: string | null): BackendFacts => ({
  models: ['m'],
  version,
  maxInputTokens: null,
  maxTotalTokens: null,
});

// Built by the real summariser from a tiny chart, so the shape never drifts from what cds-hooks sends.
const summary = summarize({
  patient: { resourceType: 'Patient', id: 'p1', gender: 'male', birthDate: '1960-01-01' },
  conditions: {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [
      {
        resource: {
          resourceType: 'Condition',
          id: 'c1',
          clinicalStatus: { coding: [{ code: 'active' }] },
          code: { text: 'Hypertension' },
        },
      },
    ],
  },
});

async function generationFor(profile: keyof typeof MODEL_PROFILES): Promise<Generation> {
  const built = await buildPrompt('patient-view', summary, MODEL_PROFILES[profile]);
  return {
    model: 'm',
    api: built.api,
    ...(built.prompt !== undefined ? { prompt: built.prompt } : {}),
    ...(built.messages !== undefined ? { messages: built.messages } : {}),
    maxTokens: built.maxTokens,
    temperature: 0,
    outputSchema: findingsJsonSchema,
    stop: built.stop,
  };
}

describe('request shaping per backend kind x profile', () => {
  it('vLLM x meditron-70b: /v1/completions, OpenAI json_schema, the FastChat stops', async () => {
    const call = shapeRequest('vllm', await generationFor('meditron-70b'), null);
    expect(call.path).toBe('/v1/completions');
    expect(call.answer).toBe('openai-completion');
    expect(call.body).toMatchObject({
      temperature: 0,
      max_tokens: 512,
      stop: ['</s>', '###', 'Assistant:', 'User:'],
      response_format: { type: 'json_schema', json_schema: { name: 'findings', schema: findingsJsonSchema } },
    });
    expect(String(call.body['prompt'])).toMatch(/\n### Assistant:$/);
  });

  it('vLLM x llama-3-meditron: /v1/chat/completions, OpenAI json_schema, no stops', async () => {
    const call = shapeRequest('vllm', await generationFor('llama-3-meditron'), null);
    expect(call.path).toBe('/v1/chat/completions');
    expect(call.body).not.toHaveProperty('stop');
    expect(call.body['response_format']).toEqual({
      type: 'json_schema',
      json_schema: { name: 'findings', schema: findingsJsonSchema, strict: true },
    });
  });

  it('TGI x meditron-70b: native /generate with a json grammar, greedy without temperature, stops', async () => {
    const call = shapeRequest('tgi', await generationFor('meditron-70b'), facts('3.3.4'));
    expect(call.path).toBe('/generate');
    expect(call.answer).toBe('tgi-generate');
    expect(call.body['parameters']).toEqual({
      max_new_tokens: 512,
      do_sample: false,
      stop: ['</s>', '###', 'Assistant:', 'User:'],
      grammar: { type: 'json', value: findingsJsonSchema },
      details: true,
    });
    expect(call.body).not.toHaveProperty('response_format');
  });

  it('TGI x meditron-70b with a temperature: sampling on, temperature passed', async () => {
    const g = { ...(await generationFor('meditron-70b')), temperature: 0.3 };
    expect(shapeRequest('tgi', g, null).body['parameters']).toMatchObject({ temperature: 0.3, do_sample: true });
  });

  it('TGI x llama-3-meditron: chat with {json_schema, value: {name, schema}} from 3.3, {json, value} before or when unknown', async () => {
    const g = await generationFor('llama-3-meditron');
    expect(shapeRequest('tgi', g, facts('3.3.4')).body['response_format']).toEqual({
      type: 'json_schema',
      value: { name: 'findings', schema: findingsJsonSchema },
    });
    for (const v of ['3.2.3', null, 'dev'])
      expect(shapeRequest('tgi', g, facts(v)).body['response_format']).toEqual({
        type: 'json',
        value: findingsJsonSchema,
      });
  });

  it('free text (no schema) on TGI completions stays on /v1/completions', async () => {
    const g = { ...(await generationFor('meditron-70b')), outputSchema: null };
    const call = shapeRequest('tgi', g, null);
    expect(call.path).toBe('/v1/completions');
    expect(call.body).not.toHaveProperty('response_format');
  });

  it('the findings schema has the top-level properties TGI requires', () => {
    expect(findingsJsonSchema).toHaveProperty('properties.findings');
  });

  it('the findings schema uses only keywords both grammar engines compile', () => {
    // outlines-core ba10c619 src/json_schema/parsing.rs (TGI 3.3.4) and xgrammar (vLLM's default) both handle
    // these; `$schema` is ignored by both. A new keyword here must be checked against both first.
    const supported = new Set([
      '$schema',
      'type',
      'properties',
      'required',
      'additionalProperties',
      'items',
      'enum',
      'minLength',
      'maxLength',
      'minItems',
      'maxItems',
    ]);
    const used = new Set<string>();
    const walk = (node: unknown, underProperties: boolean): void => {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
      for (const [key, value] of Object.entries(node)) {
        if (!underProperties) used.add(key);
        walk(value, !underProperties && key === 'properties');
      }
    };
    walk(findingsJsonSchema, false);
    expect([...used].filter((k) => !supported.has(k))).toEqual([]);
    expect(used.has('properties')).toBe(true);
  });
});

describe('backend facts', () => {
  it('TGI took json_schema from 3.3.0', () => {
    expect(tgiTakesJsonSchema('3.3.0')).toBe(true);
    expect(tgiTakesJsonSchema('3.3.4')).toBe(true);
    expect(tgiTakesJsonSchema('4.0.0')).toBe(true);
    expect(tgiTakesJsonSchema('3.2.3')).toBe(false);
    expect(tgiTakesJsonSchema('2.4.1')).toBe(false);
    expect(tgiTakesJsonSchema(null)).toBe(false);
  });

  it('the pool context is the smallest any backend reports; null when none does', () => {
    const vllm: BackendFacts = { models: ['m'], version: null, maxInputTokens: 4096, maxTotalTokens: 4096 };
    const tgi: BackendFacts = { models: ['m'], version: '3.3.4', maxInputTokens: 3072, maxTotalTokens: 4096 };
    expect(poolContextTokens([vllm], 512)).toBe(4096);
    // TGI's input limit binds first: 3072 + 512 < 4096.
    expect(poolContextTokens([vllm, tgi, null], 512)).toBe(3584);
    expect(poolContextTokens([null, facts('3.3.4')], 512)).toBeNull();
  });
});

describe('error classes', () => {
  it.each([
    ['tgi', 424, '', 'generation_failed'],
    ['tgi', 500, '', 'unavailable'],
    ['tgi', 429, '', 'overloaded'],
    ['tgi', 503, '', 'unavailable'],
    ['vllm', 503, '', 'overloaded'],
    [
      'tgi',
      422,
      '{"error":"`inputs` must have less than 3584 tokens. Given: 4000","error_type":"validation"}',
      'input_too_long',
    ],
    [
      'tgi',
      422,
      '{"error":"`inputs` tokens + `max_new_tokens` must be <= 4096. Given: 3700 `inputs` tokens and 512 `max_new_tokens`"}',
      'input_too_long',
    ],
    [
      'vllm',
      400,
      '{"error":{"message":"This model\'s maximum context length is 4096 tokens. However, you requested 4200 tokens"}}',
      'input_too_long',
    ],
    ['tgi', 422, 'Failed to deserialize the JSON body into the target type: missing field `schema`', 'bad_request'],
    ['vllm', 404, '{"error":{"message":"The model `x` does not exist."}}', 'bad_request'],
  ] as const)('%s %d %s -> %s', (kind, status, body, code) => {
    expect(classifyHttpError(kind, status, body)).toBe(code);
  });

  it('TGI keeps a matched stop at the end; the answer is the text before it', () => {
    expect(withoutTrailingStop(' {"findings":[]}\n###', ['</s>', '###'])).toBe(' {"findings":[]}\n');
    expect(withoutTrailingStop('{"a":1}', ['###'])).toBe('{"a":1}');
  });
});
