import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { INTERNAL_TOKEN_HEADER, pathHash } from '@app/auth';
import type { ModelDouble } from '@app/model-double';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { cdsResponseProblems } from '../support/cds-conformance';
import { clientsFile, gatewayHeaders } from '../support/internal-call';
import { generationRequests } from '../support/model-requests';
import { testStackEnv } from '../support/stack-env';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { prefetchFromSynthea, specExample } from '../support/synthea';

const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const CHRISTIN = 'Christin_Stiedemann_fc6aaaa5-0461-420d-b96c-ebeacc303b51.json';
const BUDGET_MS = 1000;

/** Which library example supplies each hook's context. */
const HOOK_EXAMPLES: Record<string, string> = {
  'patient-view': 'library1.0.1_patient-view_context-2-with-encounter.json',
  'order-select': 'library1.0.1_order-select_context-R4.json',
  'order-sign': 'library1.0.1_order-sign_context-R4.json',
  'encounter-start': 'library1.0.1_encounter-start_context.json',
  'encounter-discharge': 'library1.0.1_encounter-discharge_context.json',
  'appointment-book': 'library-main_appointment-book_context-2-bundle.json',
};

type Json = Record<string, unknown>;

/**
 * Model runs the double received: generation calls only. Its `stats().received` also counts the proxy's
 * `/v1/models` health probes, which land at any time and made these counts flaky on a loaded machine.
 */
function generations(double: ModelDouble): number {
  return generationRequests(double).length;
}

/**
 * cds-hooks as a CDS Hooks 2.0 service, called directly as the gateway would (with the verified client id):
 * discovery, every hook, errors, feedback, deadlines and reuse. Real Postgres, in-process transport, model double.
 */
describe('cds-hooks conformance', () => {
  let db: TestDatabase;
  let stack: LocalStack;

  beforeAll(async () => {
    db = await createTestDatabase('e2e_cds_hooks');
    stack = await startLocalStack({
      env: testStackEnv({
        DATABASE_URL: db.url,
        HOOK_DEADLINE_MS: String(BUDGET_MS),
        EHR_CLIENTS_FILE: clientsFile([
          { id: 'e2e-ehr', issuer: 'https://ehr.e2e.test' },
          { id: 'e2e-narrow', issuer: 'https://narrow.e2e.test', services: ['meditron-order-sign'] },
          { id: 'e2e-other', issuer: 'https://other.e2e.test', tenant: 'other-hospital' },
        ]),
      }),
      modelDoublePort: 0,
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await db?.drop();
  });

  async function call(path: string, body: unknown): Promise<{ status: number; json: Json; ms: number }> {
    const started = Date.now();
    const res = await fetch(`${stack.cdsHooksUrl}${path}`, {
      method: 'POST',
      headers: await gatewayHeaders(stack.internalTokenSecret, { clientId: 'e2e-ehr', path }),
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Json) : {}, ms: Date.now() - started };
  }

  function hookRequest(hook: string, fixture = DIRK): Json {
    const { patientId, prefetch } = prefetchFromSynthea(fixture);
    const context = { ...(specExample(HOOK_EXAMPLES[hook]!).context as Json), patientId };
    return { hook, hookInstance: randomUUID(), context, prefetch };
  }

  it('advertises one service per supported hook with the prefetch its prompt uses', async () => {
    const res = await fetch(`${stack.cdsHooksUrl}/cds-services`, {
      headers: await gatewayHeaders(stack.internalTokenSecret, {
        clientId: 'e2e-ehr',
        method: 'GET',
        path: '/cds-services',
      }),
    });
    const body = (await res.json()) as { services: Array<Json> };
    expect(res.status).toBe(200);
    expect(body.services.map((s) => s.hook).sort()).toEqual(Object.keys(HOOK_EXAMPLES).sort());
    for (const s of body.services) {
      expect(s).toEqual({
        id: expect.any(String),
        hook: expect.any(String),
        title: expect.stringContaining('AI-generated'),
        description: expect.any(String),
        prefetch: expect.objectContaining({ patient: 'Patient/{{context.patientId}}' }),
      });
    }
  });

  it.each(Object.keys(HOOK_EXAMPLES))('answers %s with conformant cards from the model', async (hook) => {
    const res = await call(`/cds-services/meditron-${hook}`, hookRequest(hook));
    expect(res.status).toBe(200);
    expect(cdsResponseProblems(res.json)).toEqual([]);
    expect((res.json.cards as unknown[]).length).toBeGreaterThan(0);
  });

  it('puts the draft orders first in the order-sign prompt', async () => {
    const before = generations(stack.modelDouble!);
    await call('/cds-services/meditron-order-sign', hookRequest('order-sign', CHRISTIN));
    const sent = (generationRequests(stack.modelDouble!)[before]!.body as { prompt: string }).prompt;
    // The real case is the last user turn (a synthetic worked example comes first).
    const prompt = sent.slice(sent.lastIndexOf('### User: '));
    expect(prompt).toMatch(/Draft orders[^\n]*\n {2}D1: /);
    expect(prompt.indexOf('D1:')).toBeLessThan(prompt.indexOf('Active problems'));
  });

  it.each([
    ['an unknown service', '/cds-services/nope', () => hookRequest('patient-view'), 404, 'not-found'],
    [
      'the wrong hook for the service',
      '/cds-services/meditron-order-sign',
      () => hookRequest('patient-view'),
      400,
      'invalid',
    ],
    [
      'order-select without selections',
      '/cds-services/meditron-order-select',
      () => ({ ...hookRequest('order-sign'), hook: 'order-select' }),
      400,
      'invalid',
    ],
    [
      'a missing required prefetch and no FHIR server',
      '/cds-services/meditron-patient-view',
      () => ({ ...hookRequest('patient-view'), prefetch: {} }),
      412,
      'incomplete',
    ],
  ])('refuses %s with an OperationOutcome', async (_name, path, body, status, code) => {
    const res = await call(path, body());
    expect(res.status).toBe(status);
    expect(res.json).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [expect.objectContaining({ severity: 'error', code })],
    });
  });

  it('order-select warms order-sign: the order-sign that follows with the same orders needs no model run of its own', async () => {
    const DAISEY = 'Daisey_Johns_e916a083-8ee6-4df8-acbe-b711fa791253.json';
    const select = hookRequest('order-select', DAISEY);
    const double = stack.modelDouble!;
    const before = generations(double);
    const selected = await call('/cds-services/meditron-order-select', select);
    expect(selected.status).toBe(200);
    // The order-select answer and the order-sign prewarm: two prompts, two model runs.
    await waitFor(async () => generations(double) === before + 2, 10_000);
    const sign = {
      ...select,
      hook: 'order-sign',
      hookInstance: randomUUID(),
      context: { ...(select.context as Json), selections: undefined },
    };
    const signed = await call('/cds-services/meditron-order-sign', sign);
    expect(signed.status).toBe(200);
    expect(cdsResponseProblems(signed.json)).toEqual([]);
    expect((signed.json.cards as unknown[]).length).toBe(1);
    expect(generations(double)).toBe(before + 2);
  });

  it('answers within its budget with no cards when the model is slow, then serves the late result without a second model run', async () => {
    const double = stack.modelDouble!;
    double.setLatency({ ttftMs: BUDGET_MS + 500, perTokenMs: 0 });
    const request = hookRequest('patient-view', CHRISTIN);
    const sentBefore = generations(double);
    try {
      const first = await call('/cds-services/meditron-patient-view', request);
      expect(first.status).toBe(200);
      expect(first.json).toEqual({ cards: [] });
      expect(first.ms).toBeLessThan(BUDGET_MS + 400);
      const hookInstance = request.hookInstance as string;
      const [invocation] = await queryRows<{ inference_request_id: string; status: string }>(
        db.url,
        `SELECT inference_request_id, status FROM hook_invocations WHERE hook_instance = $1`,
        [hookInstance],
      );
      expect(invocation).toMatchObject({ status: 'answered_empty' });
      await waitFor(
        async () =>
          (
            await queryRows(db.url, `SELECT 1 FROM inference_results WHERE request_id = $1 AND outcome = 'ok'`, [
              invocation!.inference_request_id,
            ])
          ).length === 1,
        10_000,
      );

      const second = await call('/cds-services/meditron-patient-view', { ...request, hookInstance: randomUUID() });
      expect(second.status).toBe(200);
      expect(cdsResponseProblems(second.json)).toEqual([]);
      expect((second.json.cards as unknown[]).length).toBe(1);
      expect(generations(double)).toBe(sentBefore + 1);
    } finally {
      double.setLatency({ ttftMs: 0, perTokenMs: 0 });
    }
  });

  it('stores feedback once, refuses unknown cards and malformed feedback', async () => {
    const res = await call('/cds-services/meditron-encounter-start', hookRequest('encounter-start', CHRISTIN));
    const card = (res.json.cards as Array<{ uuid: string }>)[0]!.uuid;
    const feedback = {
      feedback: [
        {
          card,
          outcome: 'overridden',
          overrideReason: {
            reason: { code: 'not-relevant', system: 'http://example.org/reasons', display: 'Not relevant' },
            userComment: 'seen',
          },
          outcomeTimestamp: '2026-11-25T10:00:00Z',
        },
      ],
    };

    expect((await call('/cds-services/meditron-encounter-start/feedback', feedback)).status).toBe(200);
    expect((await call('/cds-services/meditron-encounter-start/feedback', feedback)).status).toBe(200);
    const rows = await queryRows<{ outcome: string; override_reason: Json; client_id: string }>(
      db.url,
      `SELECT outcome, override_reason, client_id FROM feedback WHERE card_uuid = $1`,
      [card],
    );
    expect(rows).toEqual([
      {
        outcome: 'overridden',
        override_reason: {
          reason: { code: 'not-relevant', system: 'http://example.org/reasons', display: 'Not relevant' },
          userComment: 'seen',
        },
        client_id: 'e2e-ehr',
      },
    ]);

    const unknownCard = randomUUID();
    const unknown = await call('/cds-services/meditron-encounter-start/feedback', {
      feedback: [{ card: unknownCard, outcome: 'accepted', outcomeTimestamp: '2026-11-25T10:00:00Z' }],
    });
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(unknown.json)).toContain(unknownCard);
    expect(await queryRows(db.url, `SELECT 1 FROM feedback WHERE card_uuid = $1`, [unknownCard])).toEqual([]);

    const wrongService = await call('/cds-services/meditron-patient-view/feedback', feedback);
    expect(wrongService.status).toBe(404);

    const malformed = await call('/cds-services/meditron-encounter-start/feedback', {
      feedback: [{ card, outcome: 'ignored', outcomeTimestamp: 'yesterday' }],
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ resourceType: 'OperationOutcome' });

    const audit = await queryRows<{ action: string; n: string }>(
      db.url,
      `SELECT action, count(*)::text AS n FROM audit_events WHERE action LIKE 'feedback.%' GROUP BY action ORDER BY action`,
    );
    expect(audit).toEqual([
      { action: 'feedback.received', n: '2' },
      { action: 'feedback.refused', n: '3' },
    ]);
  });

  it('accepts the spec feedback examples for a card it returned', async () => {
    // order-sign cards carry suggestions (on by default for order hooks): the accepted example names one of them.
    const res = await call('/cds-services/meditron-order-sign', hookRequest('order-sign', CHRISTIN));
    const first = (res.json.cards as Array<{ uuid: string; suggestions?: Array<{ uuid: string }> }>)[0]!;
    const card = first.uuid;
    const carried = first.suggestions?.[0]?.uuid;
    expect(carried).toEqual(expect.any(String));
    for (const file of [
      'spec2.0.1_feedback-accepted.json',
      'spec2.0.1_feedback-overridden-no-reason.json',
      'spec2.0.1_feedback-overridden-with-reason.json',
    ]) {
      const example = specExample(file) as { feedback: Array<Json> };
      const body = {
        feedback: example.feedback.map((f) => ({
          ...f,
          card,
          ...(f.acceptedSuggestions ? { acceptedSuggestions: [{ id: carried }] } : {}),
        })),
      };
      const out = await call('/cds-services/meditron-order-sign/feedback', body);
      expect({ file, status: out.status }).toEqual({ file, status: 200 });
    }
    // As written, the accepted example names a suggestion this card never carried: refused.
    const asWritten = specExample('spec2.0.1_feedback-accepted.json') as { feedback: Array<Json> };
    const refused = await call('/cds-services/meditron-order-sign/feedback', {
      feedback: asWritten.feedback.map((f) => ({ ...f, card })),
    });
    expect(refused.status).toBe(400);
  });

  describe('only the gateway may call it (its per-call token)', () => {
    const PATH = '/cds-services/meditron-patient-view';
    const post = async (headers: Record<string, string>) =>
      fetch(`${stack.cdsHooksUrl}${PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(hookRequest('patient-view')),
      });
    const forged = async (opts: { key?: Uint8Array; aud?: string; exp?: number }) => {
      const now = Math.floor(Date.now() / 1000);
      const exp = opts.exp ?? now + 30;
      const token = await new SignJWT({
        rid: randomUUID(),
        svc: 'meditron-patient-view',
        htm: 'POST',
        htp: pathHash('POST', PATH),
      })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('meditron-gateway')
        .setAudience(opts.aud ?? 'meditron-cds-hooks')
        .setSubject('e2e-ehr')
        .setIssuedAt(exp - 30)
        .setExpirationTime(exp)
        .setJti(randomUUID())
        .sign(opts.key ?? new Uint8Array(Buffer.from(stack.internalTokenSecret, 'base64url')));
      return { [INTERNAL_TOKEN_HEADER]: token };
    };
    const refusals = (reason: string) =>
      queryRows<{ n: string }>(
        db.url,
        `SELECT count(*)::text AS n FROM audit_events WHERE action = 'hook.refused' AND outcome = 'refused'
           AND detail->>'reason' = $1`,
        [reason],
      ).then((r) => Number(r[0]!.n));

    it.each([
      ['no token, only the old client-id header', async () => ({ 'x-meditron-client-id': 'e2e-ehr' }), 'missing_token'],
      ['a forged token', () => forged({ key: new Uint8Array(randomBytes(32)) }), 'invalid_token'],
      ['an expired token', () => forged({ exp: Math.floor(Date.now() / 1000) - 2 }), 'token_expired'],
      ['a token for another audience', () => forged({ aud: 'meditron-inference-proxy' }), 'invalid_token'],
    ])('refuses %s with 401, audited as a refusal', async (_, headers, reason) => {
      const before = await refusals(reason);
      const res = await post(await headers());
      expect(res.status).toBe(401);
      expect(((await res.json()) as Json).resourceType).toBe('OperationOutcome');
      expect(await refusals(reason)).toBe(before + 1);
    });

    it('refuses a replayed token', async () => {
      const headers = await gatewayHeaders(stack.internalTokenSecret, { clientId: 'e2e-ehr', path: PATH });
      expect((await post(headers)).status).toBe(200);
      expect((await post(headers)).status).toBe(401);
    });

    it('takes feedback on a card only from the client that received it (404 to another, audited)', async () => {
      const res = await call('/cds-services/meditron-encounter-start', hookRequest('encounter-start', CHRISTIN));
      const card = (res.json.cards as Array<{ uuid: string }>)[0]!.uuid;
      const path = '/cds-services/meditron-encounter-start/feedback';
      const body = { feedback: [{ card, outcome: 'accepted', outcomeTimestamp: '2026-11-25T10:00:00Z' }] };
      const requestId = randomUUID();
      const stranger = await fetch(`${stack.cdsHooksUrl}${path}`, {
        method: 'POST',
        headers: await gatewayHeaders(stack.internalTokenSecret, { clientId: 'e2e-other', path, requestId }),
        body: JSON.stringify(body),
      });
      expect(stranger.status).toBe(404);
      expect(await queryRows(db.url, `SELECT 1 FROM feedback WHERE card_uuid = $1`, [card])).toEqual([]);
      expect(
        await queryRows(
          db.url,
          `SELECT action, client_id, detail->>'reason' AS reason FROM audit_events WHERE request_id = $1`,
          [requestId],
        ),
      ).toEqual([{ action: 'feedback.refused', client_id: 'e2e-other', reason: 'unknown_card' }]);
      expect((await call(path, body)).status).toBe(200);
    });

    it('refuses with 403 a client calling a service outside its registered list', async () => {
      const res = await post(await gatewayHeaders(stack.internalTokenSecret, { clientId: 'e2e-narrow', path: PATH }));
      expect(res.status).toBe(403);
      const other = '/cds-services/meditron-order-sign';
      const allowed = await fetch(`${stack.cdsHooksUrl}${other}`, {
        method: 'POST',
        headers: await gatewayHeaders(stack.internalTokenSecret, { clientId: 'e2e-narrow', path: other }),
        body: JSON.stringify(hookRequest('order-sign', CHRISTIN)),
      });
      expect(allowed.status).toBe(200);
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
