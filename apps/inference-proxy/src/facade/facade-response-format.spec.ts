import type { BackendFacts } from '../backends/backend-facts';
import { planFacadeBody } from './facade-response-format';

const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
const v33: BackendFacts = { models: ['m'], version: '3.3.4', maxInputTokens: null, maxTotalTokens: null };
const openAi = { type: 'json_schema', json_schema: { name: 'x', schema } };

describe('facade: response_format per backend kind', () => {
  it('passes OpenAI shapes to vLLM unchanged', () => {
    const body = { model: 'm', messages: [], response_format: openAi };
    const plan = planFacadeBody('/chat/completions', body, new Set(['vllm']));
    expect(plan.ok && plan.bodyFor('vllm', null)).toEqual(body);
  });

  it('translates json_schema for TGI chat by its version', () => {
    const plan = planFacadeBody('/chat/completions', { model: 'm', response_format: openAi }, new Set(['vllm', 'tgi']));
    if (!plan.ok) throw new Error(plan.message);
    expect(plan.bodyFor('tgi', v33)['response_format']).toEqual({
      type: 'json_schema',
      value: { name: 'findings', schema },
    });
    expect(plan.bodyFor('tgi', null)['response_format']).toEqual({ type: 'json', value: schema });
    expect(plan.bodyFor('vllm', null)['response_format']).toEqual(openAi);
  });

  it('drops {type: text} for TGI (no such variant there) and keeps it for vLLM', () => {
    const plan = planFacadeBody(
      '/chat/completions',
      { model: 'm', response_format: { type: 'text' } },
      new Set(['tgi', 'vllm']),
    );
    if (!plan.ok) throw new Error(plan.message);
    expect(plan.bodyFor('tgi', v33)).not.toHaveProperty('response_format');
    expect(plan.bodyFor('vllm', null)).toHaveProperty('response_format');
  });

  it('refuses what a TGI backend of the pool would ignore or reject', () => {
    const tgi = new Set(['tgi'] as const);
    const completions = planFacadeBody('/completions', { model: 'm', prompt: 'x', response_format: openAi }, tgi);
    expect(completions).toMatchObject({ ok: false, message: expect.stringMatching(/chat\/completions/) });
    expect(
      planFacadeBody('/chat/completions', { model: 'm', response_format: { type: 'json_object' } }, tgi),
    ).toMatchObject({ ok: false });
    // The same requests are fine on a vLLM-only pool.
    expect(planFacadeBody('/completions', { model: 'm', response_format: openAi }, new Set(['vllm']))).toMatchObject({
      ok: true,
    });
  });

  it("refuses shapes that are not OpenAI's (the facade speaks OpenAI)", () => {
    const plan = planFacadeBody(
      '/chat/completions',
      { model: 'm', response_format: { type: 'json', value: schema } },
      new Set(['vllm']),
    );
    expect(plan).toMatchObject({ ok: false });
  });
});
