import { startModelDouble, type DoubleFlavour, type ModelDouble } from '@app/model-double';
import {
  MODEL_PROFILES,
  buildPrompt,
  findingsJsonSchema,
  parseFindings,
  summarize,
  type ModelProfile,
} from '@app/prompts';
import { inferenceRequest, startProxyHarness, type ProxyHarness } from './inference-proxy-harness';

const KEY = 'eval-job-key';

/** A synthetic case (no patient data) with fact handles P1 and M1, summarised as cds-hooks would. */
const searchset = (resource: Record<string, unknown>) => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: [{ resource }],
});
const CASE = summarize({
  patient: { resourceType: 'Patient', id: 'p', gender: 'female', birthDate: '1950-01-01' },
  conditions: searchset({
    resourceType: 'Condition',
    id: 'af',
    clinicalStatus: { coding: [{ code: 'active' }] },
    code: { text: 'Atrial fibrillation' },
  }),
  medications: searchset({
    resourceType: 'MedicationRequest',
    id: 'w',
    status: 'active',
    medicationCodeableConcept: { text: 'warfarin 5 mg daily' },
  }),
});

async function requestFor(profile: ModelProfile, structured: boolean, withStops = true, model = 'meditron-70b') {
  const built = await buildPrompt('patient-view', CASE, profile);
  return inferenceRequest({
    model,
    api: built.api,
    ...(built.prompt !== undefined ? { prompt: built.prompt } : { prompt: undefined }),
    ...(built.messages !== undefined ? { messages: built.messages } : {}),
    maxTokens: built.maxTokens,
    outputSchema: structured ? findingsJsonSchema : null,
    ...(withStops && built.stop.length ? { stop: built.stop } : {}),
    templateVersion: built.templateVersion,
    promptHash: built.hash,
  });
}

/**
 * Each backend kind x profile through the real proxy (Kafka path and facade) to doubles in base-model mode:
 * without a grammar really in force they run on past the answer, so only a request the real server
 * enforces the schema on yields a parsed answer.
 */
describe.each([
  ['vllm', 'meditron-70b', '/v1/completions'],
  ['vllm', 'llama-3-meditron', '/v1/chat/completions'],
  ['tgi', 'meditron-70b', '/generate'],
  ['tgi', 'llama-3-meditron', '/v1/chat/completions'],
] as const)('%s x %s', (flavour: DoubleFlavour, profileId, expectedPath) => {
  const profile = MODEL_PROFILES[profileId];
  let double: ModelDouble;
  let h: ProxyHarness;

  beforeAll(async () => {
    double = await startModelDouble({ flavour, mode: 'base', model: profileId });
    h = await startProxyHarness([{ id: `${flavour}@d`, kind: flavour, baseUrl: double.baseUrl }], {
      INFERENCE_MODEL: profileId,
      BACKEND_HEALTH_INTERVAL_MS: '100',
      RESULT_FLUSH_MS: '10',
      FACADE_API_KEYS: KEY,
    });
  });
  afterAll(async () => {
    await h?.stop();
    await double?.close();
  });

  it('Kafka path: the request the real server enforces the schema on; a parsed, schema-valid, grounded answer', async () => {
    const req = await requestFor(profile, true, true, profileId);
    await h.publish([req]);
    const [row] = await h.results([req.requestId]);
    expect(row).toMatchObject({ outcome: 'ok', template_version: req.templateVersion });
    const parsed = parseFindings(String(row!['output_text']));
    if (!parsed.ok) throw new Error(`answer did not parse: ${parsed.reason}`);
    expect(parsed.findings.findings[0]!.evidence).toEqual(['P1']);
    const sent = double
      .requests()
      .filter((r) => r.method === 'POST')
      .at(-1)!;
    expect(sent.path).toBe(expectedPath);
    expect(sent.structured).toBe(true);
  });

  it('facade: lists the model with the limits the backend reports', async () => {
    const res = await fetch(`${h.proxy.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
    const model = ((await res.json()) as { data: Array<Record<string, unknown>> }).data[0];
    expect(model).toMatchObject({
      id: profileId,
      max_model_len: 4096,
      max_input_tokens: flavour === 'tgi' ? 3584 : 4096,
    });
  });

  it('facade: OpenAI response_format reaches the backend in its own form, or is refused clearly', async () => {
    const built = await buildPrompt('patient-view', CASE, profile);
    const path = built.api === 'completion' ? '/completions' : '/chat/completions';
    const res = await fetch(`${h.proxy.url}/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({
        model: profileId,
        ...(built.prompt !== undefined ? { prompt: built.prompt } : { messages: built.messages }),
        max_tokens: built.maxTokens,
        temperature: 0,
        ...(built.stop.length ? { stop: built.stop } : {}),
        response_format: { type: 'json_schema', json_schema: { name: 'findings', schema: findingsJsonSchema } },
      }),
    });
    if (flavour === 'tgi' && built.api === 'completion') {
      // TGI would silently ignore the schema on /v1/completions: refused rather than degraded.
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/chat\/completions/);
      return;
    }
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ text?: string; message?: { content: string } }> };
    const text = body.choices[0]!.text ?? body.choices[0]!.message!.content;
    expect(parseFindings(text).ok).toBe(true);
    // The last generation call (health probes, every 100 ms here, may have come after it).
    expect(
      double
        .requests()
        .filter((r) => r.method === 'POST')
        .at(-1)?.structured,
    ).toBe(true);
  });
});

describe('stop strings stop a base model (Meditron-70B, free text)', () => {
  it.each(['vllm', 'tgi'] as const)(
    '%s: with the template stops the answer parses; without, it runs on',
    async (flavour) => {
      const double = await startModelDouble({ flavour, mode: 'base' });
      const h = await startProxyHarness([{ id: `${flavour}@s`, kind: flavour, baseUrl: double.baseUrl }], {
        BACKEND_HEALTH_INTERVAL_MS: '100',
        RESULT_FLUSH_MS: '10',
      });
      try {
        const profile = MODEL_PROFILES['meditron-70b'];
        const stopped = await requestFor(profile, false, true);
        const runOn = await requestFor(profile, false, false);
        await h.publish([stopped, runOn]);
        const rows = await h.results([stopped.requestId, runOn.requestId]);
        const text = (id: string): string => String(rows.find((r) => r.request_id === id)!['output_text']);
        expect(parseFindings(text(stopped.requestId)).ok).toBe(true);
        expect(text(stopped.requestId)).not.toContain('###');
        expect(text(runOn.requestId)).toContain('### User:');
        expect(parseFindings(text(runOn.requestId)).ok).toBe(false);
        expect(
          double
            .requests()
            .filter((r) => r.method === 'POST')
            .every((r) => r.structured === false),
        ).toBe(true);
      } finally {
        await h.stop();
        await double.close();
      }
    },
  );
});

describe('an over-long prompt is recorded as such and never retried', () => {
  it('TGI 422 -> input_too_long, one attempt', async () => {
    const double = await startModelDouble({ flavour: 'tgi', limits: { maxInputTokens: 20, maxTotalTokens: 600 } });
    const h = await startProxyHarness([{ id: 'tgi@l', kind: 'tgi', baseUrl: double.baseUrl }], {
      BACKEND_HEALTH_INTERVAL_MS: '100',
      RESULT_FLUSH_MS: '10',
    });
    try {
      const req = await requestFor(MODEL_PROFILES['meditron-70b'], true);
      await h.publish([req]);
      const [row] = await h.results([req.requestId]);
      expect(row).toMatchObject({ outcome: 'error', error_code: 'input_too_long', attempts: 1 });
      expect(double.requests().filter((r) => r.method === 'POST')).toHaveLength(1);
    } finally {
      await h.stop();
      await double.close();
    }
  });
});
