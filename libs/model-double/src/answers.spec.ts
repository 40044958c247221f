import { createHash } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import { findingsJsonSchemaFor, type ActionMenu } from '@app/prompts';
import { defaultJsonAnswer, defaultTextAnswer, promptDigest, promptHandles, truncateAnswer } from './answers';
import { planAnswer } from './answer-plan';
import type { GenerationRequest } from './generation-request';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  endpoint: 'completion',
  model: undefined,
  promptText: 'prompt',
  stream: false,
  includeUsage: false,
  maxTokens: undefined,
  stop: [],
  structured: false,
  details: false,
  ...overrides,
});

describe('default answers', () => {
  it('name the prompt by the first 8 hex digits of its sha256', () => {
    const digest = createHash('sha256').update('abc').digest('hex').slice(0, 8);
    expect(promptDigest('abc')).toBe(digest);
    expect(defaultTextAnswer('abc')).toBe(`Model double answer for prompt ${digest}`);
    expect(JSON.parse(defaultJsonAnswer('abc'))).toEqual({
      findings: [
        {
          summary: `Model double reviewed prompt ${digest}`,
          indicator: 'info',
          detail: expect.any(String),
          evidence: [],
        },
      ],
    });
  });

  it('cite the first fact handle the prompt lists, so grounded callers keep the finding', () => {
    const prompt =
      'Active problems:\n  P1: Diabetes [44054006]\n  P2: Hypertension\nActive medications:\n  M1: metformin';
    expect(promptHandles(prompt)).toEqual(['P1', 'P2', 'M1']);
    expect(JSON.parse(defaultJsonAnswer(prompt))).toMatchObject({ findings: [{ evidence: ['P1'] }] });
  });

  it('truncateAnswer leaves a prefix that is not JSON', () => {
    const cut = truncateAnswer(defaultJsonAnswer('abc'));
    expect(defaultJsonAnswer('abc').startsWith(cut)).toBe(true);
    expect(() => JSON.parse(cut) as unknown).toThrow();
    expect(truncateAnswer('a')).toBe('a');
  });
});

describe('planAnswer', () => {
  const none = (): undefined => undefined;

  it('prefers an enqueued text, exactly, even past max_tokens', () => {
    const plan = planAnswer(request({ maxTokens: 1 }), false, () => 'one two three', 'instruct', 'vllm');
    expect(plan).toEqual({ tokens: ['one', ' two', ' three'], finish: 'stop', byStopString: false });
  });

  it('caps plain text at max_tokens but never structured output', () => {
    expect(planAnswer(request({ maxTokens: 2 }), false, none, 'instruct', 'vllm')).toEqual({
      tokens: ['Model', ' double'],
      finish: 'length',
      byStopString: false,
    });
    const json = planAnswer(request({ maxTokens: 2, structured: true }), false, none, 'instruct', 'tgi');
    expect(json.finish).toBe('stop');
    expect(json.tokens.join('')).toBe(defaultJsonAnswer('prompt'));
  });

  it("'malformed' cuts the default answer and leaves the queue alone", () => {
    const take = jest.fn(() => 'queued');
    const plan = planAnswer(request({ structured: true }), true, take, 'instruct', 'vllm');
    expect(plan.finish).toBe('length');
    expect(plan.tokens.join('')).toBe(truncateAnswer(defaultJsonAnswer('prompt')));
    expect(take).not.toHaveBeenCalled();
  });
});

describe('default answer under an action-offering schema', () => {
  const menu: ActionMenu = {
    kinds: ['remove-draft', 'replace-draft', 'order-lab'],
    drafts: { D1: 'MedicationRequest/a', D2: 'MedicationRequest/b' },
    medications: { F1: { system: 's', code: '1', display: 'one' } },
    tests: { T1: { system: 'http://loinc.org', code: '6301-6', display: 'INR' } },
  };

  it('chooses one action per offered kind, first handles, and stays valid under the schema it was given', () => {
    const schema = findingsJsonSchemaFor(menu);
    const answer = JSON.parse(defaultJsonAnswer('  D1: x', schema)) as { findings: Array<{ actions?: unknown }> };
    expect(answer.findings[0]!.actions).toEqual([
      { kind: 'remove-draft', draft: 'D1' },
      { kind: 'replace-draft', draft: 'D1', medication: 'F1' },
      { kind: 'order-lab', test: 'T1' },
    ]);
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(answer)).toBe(true);
  });

  it('chooses nothing when the schema offers no action, and only what a kind can be filled with', () => {
    expect(JSON.parse(defaultJsonAnswer('p', findingsJsonSchemaFor(undefined))).findings[0]).not.toHaveProperty(
      'actions',
    );
    const labOnly = findingsJsonSchemaFor({ ...menu, kinds: ['order-lab'], drafts: {}, medications: {} });
    expect(JSON.parse(defaultJsonAnswer('p', labOnly)).findings[0].actions).toEqual([
      { kind: 'order-lab', test: 'T1' },
    ]);
  });

  it('reads the schema from the request the grammar enforces', () => {
    const schema = findingsJsonSchemaFor(menu);
    const plan = planAnswer(request({ structured: true, schema }), false, () => undefined, 'instruct', 'vllm');
    expect(plan.tokens.join('')).toContain('"actions"');
  });
});
