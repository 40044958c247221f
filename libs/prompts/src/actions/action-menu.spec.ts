import {
  buildPrompt,
  DATA_CLOSE,
  DATA_OPEN,
  findingsJsonSchema,
  findingsJsonSchemaFor,
  MODEL_PROFILES,
  summarize,
  type ActionOffer,
  type PromptHook,
} from '@app/prompts';

const NOW = new Date('2021-06-01T00:00:00Z');
const PATIENT = { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1940-01-01' };
const draft = (id: string, display: string, patient = 'Patient/p1') => ({
  resourceType: 'MedicationRequest',
  id,
  status: 'draft',
  intent: 'order',
  subject: { reference: patient },
  medicationCodeableConcept: {
    coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1', display }],
  },
});
const DRAFTS = [draft('ibu', 'Ibuprofen 600 MG Oral Tablet'), draft('other', 'Naproxen 220 MG Oral Tablet')];
const OFFER: ActionOffer = {
  kinds: ['remove-draft', 'replace-draft', 'order-lab'],
  draftRefs: ['MedicationRequest/ibu'],
  medications: [
    {
      system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
      code: '313782',
      display: 'Acetaminophen 325 MG Oral Tablet',
    },
  ],
  tests: [{ system: 'http://loinc.org', code: '6301-6', display: 'INR in Platelet poor plasma by Coagulation assay' }],
};
const profile = MODEL_PROFILES['meditron-70b'];

async function prompt(hook: PromptHook, offer?: ActionOffer) {
  const summary = summarize({ patient: PATIENT }, NOW, hook.startsWith('order') ? DRAFTS : []);
  return buildPrompt(hook, summary, profile, offer ? { actions: offer } : {});
}

type Schema = {
  properties: {
    findings: {
      items: { properties: Record<string, { items?: { properties: Record<string, { enum?: string[] }> } }> };
    };
  };
};
const actionFields = (s: Record<string, unknown>) =>
  (s as unknown as Schema).properties.findings.items.properties['actions']?.items?.properties;

describe('action menu in the prompt and the output schema', () => {
  it('lists the offered options by handle inside the data delimiters, and the schema allows exactly those handles', async () => {
    const built = await prompt('order-sign', OFFER);
    const text = built.prompt!;
    const data = text.slice(text.lastIndexOf(DATA_OPEN), text.lastIndexOf(DATA_CLOSE));
    expect(data).toContain('Actions the service can prepare');
    expect(data).toContain('[F1] Acetaminophen 325 MG Oral Tablet');
    expect(data).toContain('[T1] INR in Platelet poor plasma');
    expect(built.manifest.actions).toEqual({
      kinds: ['remove-draft', 'replace-draft', 'order-lab'],
      drafts: { D1: 'MedicationRequest/ibu' },
      medications: { F1: OFFER.medications[0] },
      tests: { T1: OFFER.tests[0] },
    });
    expect(built.templateVersion).toBe('order-sign@2+actions@1/fastchat-meditron@1');
    const fields = actionFields(built.outputSchema)!;
    expect(fields['kind']!.enum).toEqual(['remove-draft', 'replace-draft', 'order-lab']);
    // The other draft (not offered) has a handle in the orders section, but it is not a choice.
    expect(fields['draft']!.enum).toEqual(['D1']);
    expect(fields['medication']!.enum).toEqual(['F1']);
    expect(fields['test']!.enum).toEqual(['T1']);
    expect(built.manifest.promptTokens).toBeLessThanOrEqual(built.manifest.budgetTokens);
  });

  it('changes nothing when no action is offered: same prompt, the plain findings schema', async () => {
    const plain = await prompt('order-sign');
    expect(plain.outputSchema).toEqual(findingsJsonSchema);
    expect(plain.manifest.actions).toBeUndefined();
    expect(plain.prompt).not.toContain('Actions the service can prepare');
    const nothingToOffer = await prompt('order-sign', { ...OFFER, kinds: ['remove-draft'], draftRefs: [] });
    expect(nothingToOffer.hash).toBe(plain.hash);
  });

  it('offers no draft action on a hook without draft orders (wrong hook): only the lab panel', async () => {
    const built = await prompt('patient-view', OFFER);
    expect(built.manifest.actions?.kinds).toEqual(['order-lab']);
    expect(actionFields(built.outputSchema)!['draft']).toBeUndefined();
    expect(built.prompt).not.toContain('remove-draft:');
  });

  it("never offers a draft order the service did not name (another patient's, or not a draft)", async () => {
    const summary = summarize({ patient: PATIENT }, NOW, [draft('x', 'Warfarin', 'Patient/someone-else')]);
    const built = await buildPrompt('order-sign', summary, profile, {
      actions: { ...OFFER, kinds: ['remove-draft'], draftRefs: [] },
    });
    expect(built.manifest.actions).toBeUndefined();
  });

  it('builds each shape of schema once but hands every call its own copy, equal to the first', async () => {
    const first = (await prompt('order-sign', OFFER)).outputSchema;
    const firstText = JSON.stringify(first);
    (first as { mutated?: boolean }).mutated = true;
    const again = (await prompt('order-sign', OFFER)).outputSchema;
    expect(again).not.toBe(first);
    expect(JSON.stringify(again)).toBe(firstText);
    const plain = findingsJsonSchemaFor(undefined);
    (plain as { mutated?: boolean }).mutated = true;
    expect(findingsJsonSchemaFor(undefined)).toStrictEqual(findingsJsonSchema);
    // Another shape (another set of handles) gets its own schema, not the first one's.
    const labOnly = (await prompt('patient-view', OFFER)).outputSchema;
    expect(actionFields(labOnly)!['draft']).toBeUndefined();
    expect(actionFields(findingsJsonSchemaFor(undefined))).toBeUndefined();
  });

  it('uses only schema keywords both grammar engines compile', async () => {
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
    walk((await prompt('order-sign', OFFER)).outputSchema, false);
    expect([...used].filter((k) => !supported.has(k))).toEqual([]);
  });
});
