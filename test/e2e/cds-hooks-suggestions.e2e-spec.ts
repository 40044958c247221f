import { randomUUID } from 'node:crypto';
import { CardFeedbackRepository, createDataSource } from '@app/database';
import { r4Problems } from '../../apps/cds-hooks/src/cards/suggestions/r4-validator';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { cdsResponseProblems } from '../support/cds-conformance';
import { clientsFile, gatewayHeaders } from '../support/internal-call';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { testStackEnv } from '../support/stack-env';
import { prefetchFromSynthea } from '../support/synthea';

const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

type Json = Record<string, unknown>;
interface Action {
  type: string;
  description: string;
  resource?: fhir4.Resource & { subject?: { reference?: string } };
  resourceId?: string;
}
interface Card {
  uuid: string;
  suggestions?: Array<{ uuid: string; label: string; actions: Action[] }>;
  selectionBehavior?: string;
  links?: Json[];
}

/**
 * Actionable cards end to end: an order-select call (which prewarms order-sign) and the order-sign call the EHR
 * fires next, over real HTTP into cds-hooks, the in-process transport to the inference proxy, the model double
 * choosing among the offered actions, real Postgres. A suggestion is accepted and the feedback stored; one the
 * card did not carry is refused.
 */
describe('cds-hooks suggestions: order-select -> order-sign -> accepted feedback', () => {
  let db: TestDatabase;
  let stack: LocalStack;
  const { patientId, prefetch } = prefetchFromSynthea(DIRK);
  const ibuprofen = {
    resourceType: 'MedicationRequest',
    id: 'draft-ibuprofen',
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: {
      coding: [{ system: RXNORM, code: '197806', display: 'Ibuprofen 600 MG Oral Tablet' }],
    },
  };
  // Sent in the same bundle by a confused EHR: never offered, never a target.
  const someoneElses = { ...ibuprofen, id: 'draft-other-patient', subject: { reference: 'Patient/someone-else' } };
  const context = {
    userId: 'Practitioner/example',
    patientId,
    draftOrders: {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: ibuprofen }, { resource: someoneElses }],
    },
  };

  beforeAll(async () => {
    db = await createTestDatabase('e2e_cds_suggestions');
    stack = await startLocalStack({
      env: testStackEnv({
        DATABASE_URL: db.url,
        HOOK_DEADLINE_MS: '3000',
        EHR_CLIENTS_FILE: clientsFile([{ id: 'e2e-ehr', issuer: 'https://ehr.e2e.test' }]),
      }),
      modelDoublePort: 0,
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await db?.drop();
  });

  async function call(path: string, body: unknown): Promise<{ status: number; json: Json }> {
    const res = await fetch(`${stack.cdsHooksUrl}${path}`, {
      method: 'POST',
      headers: await gatewayHeaders(stack.internalTokenSecret, { clientId: 'e2e-ehr', path }),
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Json) : {} };
  }

  function checkSuggestions(cards: Card[]): void {
    expect(cdsResponseProblems({ cards })).toEqual([]);
    const suggestions = cards.flatMap((c) => c.suggestions ?? []);
    expect(suggestions.length).toBeGreaterThan(0);
    for (const c of cards)
      expect(c.links).toEqual([
        { label: expect.any(String), url: expect.stringMatching(/^https:\/\//), type: 'absolute' },
      ]);
    for (const action of suggestions.flatMap((s) => s.actions)) {
      if (action.type === 'delete') expect(action.resourceId).toBe('MedicationRequest/draft-ibuprofen');
      else {
        expect(action.type).toBe('create');
        expect(r4Problems(action.resource!)).toEqual([]);
        expect(action.resource!.subject?.reference).toBe(`Patient/${patientId}`);
      }
    }
    expect(JSON.stringify(cards)).not.toContain('draft-other-patient');
  }

  it('offers the choices by handle, builds them, and stores the accepted suggestion', async () => {
    const double = stack.modelDouble!;
    const before = double.requests().length;
    const select = await call('/cds-services/meditron-order-select', {
      hook: 'order-select',
      hookInstance: randomUUID(),
      context: { ...context, selections: ['MedicationRequest/draft-ibuprofen'] },
      prefetch,
    });
    expect(select.status).toBe(200);
    checkSuggestions(select.json.cards as Card[]);

    // What reached the model: the menu inside the data, the schema closing the choices to its handles.
    const sent = double
      .requests()
      .slice(before)
      .find((r) => r.method === 'POST' && /completions$/.test(r.path))!;
    const body = sent.body as { prompt: string; response_format: { json_schema: { schema: Json } } };
    expect(body.prompt).toContain('Actions the service can prepare');
    type Node = { properties: Record<string, Node>; items: Node; enum: string[] };
    const schema = body.response_format.json_schema.schema as unknown as Node;
    const fields = schema.properties['findings']!.items.properties['actions']!.items.properties;
    expect(fields['draft']!.enum).toHaveLength(1);
    expect(fields['kind']!.enum).toEqual(['remove-draft', 'replace-draft', 'order-lab']);

    const sign = await call('/cds-services/meditron-order-sign', {
      hook: 'order-sign',
      hookInstance: randomUUID(),
      context,
      prefetch,
    });
    expect(sign.status).toBe(200);
    const cards = sign.json.cards as Card[];
    checkSuggestions(cards);
    const card = cards.find((c) => c.suggestions?.length)!;
    const lab = card.suggestions!.find((s) => s.actions.some((a) => a.resource?.resourceType === 'ServiceRequest'))!;

    const accepted = await call('/cds-services/meditron-order-sign/feedback', {
      feedback: [
        {
          card: card.uuid,
          outcome: 'accepted',
          acceptedSuggestions: [{ id: lab.uuid }],
          outcomeTimestamp: '2026-11-29T18:00:00Z',
        },
      ],
    });
    expect(accepted.status).toBe(200);
    const stored = await queryRows<{ accepted_suggestions: Json[] }>(
      db.url,
      `SELECT accepted_suggestions FROM feedback WHERE card_uuid = $1 AND outcome = 'accepted'`,
      [card.uuid],
    );
    expect(stored).toEqual([{ accepted_suggestions: [{ id: lab.uuid }] }]);

    const ds = await createDataSource({ url: db.url, poolSize: 1 }).initialize();
    try {
      const counts = await new CardFeedbackRepository(ds).suggestionAcceptanceByKind({
        serviceId: 'meditron-order-sign',
      });
      expect(counts.find((c) => c.kind === 'order-lab')).toEqual({
        serviceId: 'meditron-order-sign',
        kind: 'order-lab',
        offered: expect.any(Number),
        accepted: 1,
      });
      expect(counts.filter((c) => c.kind !== 'order-lab').every((c) => c.accepted === 0)).toBe(true);
    } finally {
      await ds.destroy();
    }
  });

  it('refuses accepting a suggestion the card did not carry, audits it, stores nothing', async () => {
    const sign = await call('/cds-services/meditron-order-sign', {
      hook: 'order-sign',
      hookInstance: randomUUID(),
      context,
      prefetch,
    });
    const card = (sign.json.cards as Card[])[0]!;
    const foreign = randomUUID();
    const refused = await call('/cds-services/meditron-order-sign/feedback', {
      feedback: [
        {
          card: card.uuid,
          outcome: 'accepted',
          acceptedSuggestions: [{ id: foreign }],
          outcomeTimestamp: '2026-11-29T18:01:00Z',
        },
      ],
    });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'invalid', expression: ['feedback[0].acceptedSuggestions[0].id'] }],
    });
    expect(await queryRows(db.url, `SELECT 1 FROM feedback WHERE card_uuid = $1`, [card.uuid])).toEqual([]);
    const audits = await queryRows<{ detail: Json }>(
      db.url,
      `SELECT detail FROM audit_events WHERE action = 'feedback.refused' ORDER BY recorded_at DESC LIMIT 1`,
    );
    expect(JSON.stringify(audits[0]?.detail)).toContain('unknown_suggestion');
  });
});
