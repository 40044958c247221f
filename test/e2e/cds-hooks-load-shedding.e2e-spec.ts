import { UPSTREAM_TIMEOUT_HEADER } from '@app/contracts';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { cdsResponseProblems } from '../support/cds-conformance';
import { gatewayHeaders } from '../support/internal-call';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { scrape, seriesValue } from '../support/prometheus-scrape';
import { testStackEnv } from '../support/stack-env';
import { patientViewRequest, postHook } from './walking-skeleton.cases';

const SERVICE = 'meditron-patient-view';
const ADMITTED = 2;
const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const DAISEY = 'Daisey_Johns_e916a083-8ee6-4df8-acbe-b711fa791253.json';
const CHRISTIN = 'Christin_Stiedemann_fc6aaaa5-0461-420d-b96c-ebeacc303b51.json';
const OVER = 6;

/** Polls `probe` until it returns a value, or fails the test after `ms`. */
async function eventually<T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A hook call straight to cds-hooks, as the gateway forwards it, saying the gateway waits `timeoutMs`. */
async function postHookUpstream(
  stack: LocalStack,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const path = `/cds-services/${SERVICE}`;
  const res = await fetch(`${stack.cdsHooksUrl}${path}`, {
    method: 'POST',
    headers: {
      ...(await gatewayHeaders(stack.internalTokenSecret, { clientId: stack.devEhrClient.clientId, path })),
      [UPSTREAM_TIMEOUT_HEADER]: String(timeoutMs),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/**
 * Overload, functionally (issue 17): the real stack on Postgres with a slowed model double and HOOK_MAX_IN_FLIGHT 2.
 * While two calls are being worked on, every further call is answered at once with `{"cards": []}` (HTTP 200,
 * spec-valid), counted in meditron_hooks_shed_total and audited as `hook.shed`; the two admitted calls still get
 * their cards, nothing answers 5xx, and once the load is gone a normal call gets cards again.
 */
describe('cds-hooks load shedding, against the running stack', () => {
  let db: TestDatabase;
  let double: ModelDouble;
  let stack: LocalStack;

  beforeAll(async () => {
    db = await createTestDatabase('e2e_load_shedding');
    double = await startModelDouble({ port: 0, flavour: 'vllm' });
    stack = await startLocalStack({
      env: testStackEnv({
        DATABASE_URL: db.url,
        INFERENCE_BACKENDS: `vllm=${double.baseUrl}`,
        HOOK_MAX_IN_FLIGHT: String(ADMITTED),
        HOOK_DEADLINE_MS: '15000',
        UPSTREAM_TIMEOUT_MS: '20000',
      }),
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await double?.close();
    await db?.drop();
  });

  it('sheds calls over the in-flight limit with no cards, records why, and recovers', async () => {
    // Two patients, so two inferences (identical prompts would share one); the model holds both well inside
    // the budget, so the two calls stay in flight.
    double.injectFault({ kind: 'slow', count: ADMITTED, delayMs: 4000 });
    const admitted = [DIRK, DAISEY].map((file) => postHook(stack, patientViewRequest(file).body));
    await eventually(async () => {
      const inFlight = seriesValue(await scrape(stack.metricsUrls.cdsHooks), 'meditron_hooks_in_flight');
      return inFlight === ADMITTED ? true : undefined;
    });

    const calls = Array.from({ length: OVER }, () => patientViewRequest());
    const over = await Promise.all(calls.map((c) => postHook(stack, c.body)));
    const all = [...over, ...(await Promise.all(admitted))];

    for (const res of all) {
      expect(res.status).toBe(200);
      expect(cdsResponseProblems(res.json)).toEqual([]);
    }
    // Shed: answered with no cards; the admitted calls got the model's cards.
    expect(over.map((r) => r.json)).toEqual(Array.from({ length: OVER }, () => ({ cards: [] })));
    for (const res of all.slice(OVER)) expect((res.json.cards as unknown[]).length).toBeGreaterThan(0);
    // ... and without any work: no invocation was recorded for them.
    const shedInstances = calls.map((c) => c.hookInstance);
    expect(
      await queryRows(db.url, `SELECT 1 FROM hook_invocations WHERE hook_instance = ANY($1::uuid[])`, [shedInstances]),
    ).toEqual([]);

    const metrics = await scrape(stack.metricsUrls.cdsHooks);
    expect(seriesValue(metrics, 'meditron_hooks_shed_total', { service: SERVICE, reason: 'in_flight_limit' })).toBe(
      OVER,
    );
    // Audited (queued, not awaited, so the answer is not held): which client, call and request, and why; no patient.
    const rows = await eventually(async () => {
      const r = await queryRows<{
        hook_instance: string;
        request_id: string | null;
        client_id: string | null;
        outcome: string;
        patient_ref: string | null;
        detail: unknown;
      }>(
        db.url,
        `SELECT hook_instance, request_id, client_id, outcome, patient_ref, detail FROM audit_events
          WHERE action = 'hook.shed'`,
      );
      return r.length >= OVER ? r : undefined;
    });
    expect(rows.map((r) => r.hook_instance).sort()).toEqual([...shedInstances].sort());
    expect(rows.map((r) => r.request_id).sort()).toEqual(over.map((r) => r.headers.get('x-request-id')).sort());
    for (const r of rows) {
      expect(r).toMatchObject({
        client_id: stack.devEhrClient.clientId,
        outcome: 'refused',
        patient_ref: null,
        detail: { serviceId: SERVICE, reason: 'shed', cause: 'in_flight_limit' },
      });
    }

    // The load is gone: a normal call is admitted and answered with cards.
    const after = await postHook(stack, patientViewRequest(CHRISTIN).body);
    expect(after.status).toBe(200);
    expect(cdsResponseProblems(after.json)).toEqual([]);
    expect((after.json.cards as unknown[]).length).toBeGreaterThan(0);
  });

  it('answers no cards before the gateway gives up, when the gateway waits less than the service budget', async () => {
    // A separate gateway setting would need another stack: the header the gateway sends is what cds-hooks obeys,
    // so the call goes to cds-hooks directly with a short upstream timeout and the gateway's internal token.
    const metrics = await scrape(stack.metricsUrls.cdsHooks);
    const shedBefore = seriesValue(metrics, 'meditron_hooks_shed_total', { service: SERVICE, reason: 'deadline' }) ?? 0;
    double.injectFault({ kind: 'slow', count: 1, delayMs: 8000 });
    // Another birth year, so the prompt is new and no stored answer serves it.
    const { body } = patientViewRequest();
    const prefetch = body.prefetch as { patient: Record<string, unknown> };
    const res = await postHookUpstream(
      stack,
      { ...body, prefetch: { ...prefetch, patient: { ...prefetch.patient, birthDate: '1950-02-03' } } },
      1000,
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ cards: [] });
    const after = await scrape(stack.metricsUrls.cdsHooks);
    expect(seriesValue(after, 'meditron_hooks_shed_total', { service: SERVICE, reason: 'deadline' })).toBe(
      shedBefore + 1,
    );

    // The handler goes on and its cards come in later: on record as withheld, never as shown to the EHR.
    type Row = { status: string; cards_returned: number; answer_detail: Record<string, unknown> | null };
    let row: Row | undefined;
    for (let i = 0; i < 150 && !row?.status.startsWith('answered'); i += 1) {
      [row] = await queryRows<Row>(
        db.url,
        `SELECT status, cards_returned, answer_detail FROM hook_invocations WHERE hook_instance = $1`,
        [body.hookInstance],
      );
      if (!row?.status.startsWith('answered')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(row).toMatchObject({ status: 'answered_empty', cards_returned: 0 });
    expect(row!.answer_detail!.withheldAtDeadline).toBeGreaterThan(0);
    const [cards] = await queryRows<{ n: string }>(
      db.url,
      `SELECT count(*)::text AS n FROM cds_cards c JOIN hook_invocations h ON h.id = c.hook_invocation_id WHERE h.hook_instance = $1`,
      [body.hookInstance],
    );
    expect(cards!.n).toBe('0');
  });
});
