import { cdsResponseProblems } from '@app/testing/cds-conformance';
import type { InferenceResultEntity } from '@app/database';
import { buildPrompt, MODEL_PROFILES, summarize, type ActionMenu } from '@app/prompts';
import { DEFAULT_CONFIG_DIR, type CdsServiceDefinition } from '../../discovery/service-catalog';
import { composeCards } from '../card-composer';
import type { Suggestion } from '../card';
import { actionOffer, removableDrafts, type SuggestionContext } from './action-offer';
import { r4Problems } from './r4-validator';
import { suggestionProblems } from './suggestion-check';
import { resolveSuggestionPolicy } from './suggestion-policy';

const profile = MODEL_PROFILES['meditron-70b'];
const service = (
  hook: CdsServiceDefinition['hook'],
  extra: Partial<CdsServiceDefinition> = {},
): CdsServiceDefinition => ({
  id: `svc-${hook}`,
  hook,
  title: 't',
  description: 'd',
  enabled: true,
  prefetch: {},
  requiredPrefetch: [],
  mode: 'live',
  allowCritical: false,
  prewarm: [],
  ...extra,
});
const draft = (id: string, patient = 'Patient/p1', resourceType = 'MedicationRequest') => ({
  resourceType,
  id,
  status: 'draft',
  intent: 'order',
  subject: { reference: patient },
  ...(resourceType === 'MedicationRequest'
    ? { medicationCodeableConcept: { text: 'Ibuprofen 600 MG Oral Tablet <b>now</b>' } }
    : { code: { text: 'Chest X-ray' } }),
});
const CTX: SuggestionContext = {
  patientId: 'p1',
  drafts: [draft('ibu'), draft('xray', 'Patient/p1', 'ServiceRequest'), draft('theirs', 'Patient/p2')],
};
const orderSign = service('order-sign');
const policy = resolveSuggestionPolicy(orderSign, DEFAULT_CONFIG_DIR);
const result = (findings: unknown[]) =>
  ({ requestId: 'r', outcome: 'ok', outputText: JSON.stringify({ findings }) }) as InferenceResultEntity;

async function menuFor(ctx: SuggestionContext): Promise<{ menu: ActionMenu; references: Record<string, string> }> {
  const summary = summarize({ patient: { resourceType: 'Patient', id: 'p1', gender: 'male' } }, new Date(), ctx.drafts);
  const built = await buildPrompt('order-sign', summary, profile, { actions: actionOffer(policy, ctx)! });
  return { menu: built.manifest.actions!, references: built.manifest.references };
}

describe('suggestions on cards', () => {
  it('offers only draft orders of this request and this patient', () => {
    expect([...removableDrafts(CTX).keys()]).toEqual(['MedicationRequest/ibu', 'ServiceRequest/xray']);
  });

  it('builds each offered kind as spec-valid suggestions with R4-valid resources, and a documentation link', async () => {
    const { menu, references } = await menuFor(CTX);
    const d = Object.entries(menu.drafts).find(([, ref]) => ref === 'MedicationRequest/ibu')![0];
    const x = Object.entries(menu.drafts).find(([, ref]) => ref === 'ServiceRequest/xray')![0];
    const out = composeCards(
      result([
        {
          summary: 'NSAID in CKD',
          indicator: 'warning',
          evidence: [d],
          actions: [
            { kind: 'remove-draft', draft: d },
            { kind: 'replace-draft', draft: d, medication: 'F1' },
          ],
        },
        {
          summary: 'No INR',
          indicator: 'info',
          evidence: [x],
          actions: [
            { kind: 'order-lab', test: 'T1' },
            { kind: 'remove-draft', draft: x },
          ],
        },
      ]),
      references,
      orderSign,
      profile,
      {
        suggestionPolicy: policy,
        menu,
        context: CTX,
        link: { label: 'Model card', url: 'https://docs.example/model', type: 'absolute' },
      },
    );
    expect(cdsResponseProblems(JSON.parse(JSON.stringify({ cards: out.cards })))).toEqual([]);
    const [first, second] = out.cards;
    expect(first!.selectionBehavior).toBe('at-most-one');
    expect(second!.selectionBehavior).toBe('any');
    expect(first!.links).toEqual([{ label: 'Model card', url: 'https://docs.example/model', type: 'absolute' }]);
    const [remove, replace] = first!.suggestions!;
    expect(remove!.label).toBe('Remove draft order: Ibuprofen 600 MG Oral Tablet now');
    expect(remove!.actions).toEqual([
      { type: 'delete', description: expect.any(String), resourceId: 'MedicationRequest/ibu' },
    ]);
    expect(replace!.actions.map((a) => a.type)).toEqual(['delete', 'create']);
    const lab = second!.suggestions![0]!.actions[0]!;
    expect(lab).toMatchObject({
      type: 'create',
      resource: {
        resourceType: 'ServiceRequest',
        status: 'draft',
        code: { coding: [{ system: 'http://loinc.org', code: policy.tests[0]!.code }] },
        subject: { reference: 'Patient/p1' },
      },
    });
    const created = out.cards
      .flatMap((c) => c.suggestions ?? [])
      .flatMap((s) => s.actions)
      .flatMap((a) => (a.type === 'create' ? [a.resource] : []));
    expect(created.map((r) => r.resourceType).sort()).toEqual(['MedicationRequest', 'ServiceRequest']);
    for (const r of created) expect(r4Problems(r)).toEqual([]);
    expect(out.suggestions.map((s) => [s.kind, s.code])).toEqual([
      ['remove-draft', null],
      ['replace-draft', `http://www.nlm.nih.gov/research/umls/rxnorm|${policy.medications[0]!.code}`],
      ['order-lab', `http://loinc.org|${policy.tests[0]!.code}`],
      ['remove-draft', null],
    ]);
    expect(out.detail.suggestions).toBe(4);
  });

  it('drops hallucinated and off-list choices, keeps the finding, and records why', async () => {
    const { menu, references } = await menuFor(CTX);
    const d = Object.keys(menu.drafts)[0]!;
    const out = composeCards(
      result([
        {
          summary: 'x',
          indicator: 'info',
          evidence: [d],
          actions: [
            { kind: 'remove-draft', draft: 'D42' },
            { kind: 'replace-draft', draft: d, medication: 'F99' },
            { kind: 'order-lab', test: 'INR please' },
          ],
        },
      ]),
      references,
      orderSign,
      profile,
      { suggestionPolicy: policy, menu, context: CTX },
    );
    expect(out.cards).toHaveLength(1);
    expect(out.cards[0]!.suggestions).toBeUndefined();
    expect(out.cards[0]!.selectionBehavior).toBeUndefined();
    expect(out.detail.droppedActions).toEqual([
      { finding: 0, action: 0, reason: 'unknown_draft' },
      { finding: 0, action: 1, reason: 'unknown_medication' },
      { finding: 0, action: 2, reason: 'unknown_test' },
    ]);
  });

  it('drops a whole suggestion whose draft belongs to another patient, even if a menu named it', async () => {
    const { menu, references } = await menuFor(CTX);
    const tampered: ActionMenu = { ...menu, drafts: { ...menu.drafts, D9: 'MedicationRequest/theirs' } };
    const out = composeCards(
      result([
        {
          summary: 'x',
          indicator: 'info',
          evidence: [Object.keys(menu.drafts)[0]!],
          actions: [{ kind: 'replace-draft', draft: 'D9', medication: 'F1' }],
        },
      ]),
      references,
      orderSign,
      profile,
      { suggestionPolicy: policy, menu: tampered, context: CTX },
    );
    expect(out.cards[0]!.suggestions).toBeUndefined();
    expect(out.detail.droppedActions).toEqual([
      {
        finding: 0,
        action: 0,
        reason: 'invalid: actions[0].resourceId is not a draft order of this request and patient',
      },
    ]);
  });

  it('carries no suggestion when the policy is off (shadow or non-order service)', async () => {
    const { menu, references } = await menuFor(CTX);
    const out = composeCards(
      result([
        {
          summary: 'x',
          indicator: 'info',
          evidence: [Object.keys(menu.drafts)[0]!],
          actions: [{ kind: 'order-lab', test: 'T1' }],
        },
      ]),
      references,
      orderSign,
      profile,
      {
        suggestionPolicy: resolveSuggestionPolicy(service('order-sign', { mode: 'shadow' }), DEFAULT_CONFIG_DIR),
        menu,
        context: CTX,
      },
    );
    expect(out.cards[0]!.suggestions).toBeUndefined();
    expect(out.detail.droppedActions).toEqual([{ finding: 0, action: 0, reason: 'suggestions_off' }]);
  });
});

describe('suggestion check and R4 validation', () => {
  const good: Suggestion = {
    uuid: '0b4d3a3c-5d5e-4a8e-9c35-0d3f4b1a2c11',
    label: 'Order INR',
    actions: [
      {
        type: 'create',
        description: 'Draft INR',
        resource: {
          resourceType: 'ServiceRequest',
          status: 'draft',
          intent: 'proposal',
          subject: { reference: 'Patient/p1' },
        } as fhir4.ServiceRequest,
      },
    ],
  };
  const withResource = (resource: Record<string, unknown>): Suggestion => ({
    ...good,
    actions: [{ type: 'create', description: 'd', resource: resource as unknown as fhir4.Resource }],
  });

  it('passes a valid suggestion', () => {
    expect(suggestionProblems(good, CTX)).toEqual([]);
  });

  it.each([
    ['another patient', { subject: { reference: 'Patient/p2' } }, 'not for the patient in context'],
    [
      'a status outside R4 request-status',
      { status: 'bogus' },
      'ServiceRequest.status: not a code of its required value set',
    ],
    ['an intent outside R4 request-intent', { intent: 'whatever' }, 'ServiceRequest.intent'],
    ['a property R4 does not define', { dose: '5 mg' }, 'dose'],
    ['a missing subject', { subject: undefined }, 'ServiceRequest.subject'],
    ['an id', { id: 'x' }, 'carries an id'],
  ])('flags %s', (_name, change, problem) => {
    const resource = { ...(good.actions[0] as unknown as { resource: Record<string, unknown> }).resource, ...change };
    expect(
      suggestionProblems(withResource(JSON.parse(JSON.stringify(resource)) as Record<string, unknown>), CTX).join(
        ' | ',
      ),
    ).toContain(problem);
  });

  it('flags a suggestion without uuid or label, and a delete of a draft not in the request', () => {
    expect(suggestionProblems({ ...good, uuid: '' }, CTX)).toContain('uuid missing');
    expect(suggestionProblems({ ...good, label: ' ' }, CTX)).toContain('label empty');
    expect(
      suggestionProblems(
        { ...good, actions: [{ type: 'delete', description: 'd', resourceId: 'MedicationRequest/nope' }] },
        CTX,
      ),
    ).toEqual(['actions[0].resourceId is not a draft order of this request and patient']);
  });
});
