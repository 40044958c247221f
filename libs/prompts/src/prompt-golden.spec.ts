import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '@app/testing/synthea';
import {
  buildPrompt,
  HOOK_TEMPLATES,
  MODEL_PROFILES,
  summarize,
  type BuiltPrompt,
  type PromptHook,
} from '@app/prompts';

type Json = Record<string, unknown>;
const FIXTURES = {
  dirk: 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json',
  daisey: 'Daisey_Johns_e916a083-8ee6-4df8-acbe-b711fa791253.json',
  christin: 'Christin_Stiedemann_fc6aaaa5-0461-420d-b96c-ebeacc303b51.json',
} as const;
const NOW = new Date('2021-06-01T00:00:00Z');
const HOOKS = Object.keys(HOOK_TEMPLATES) as PromptHook[];

function bundle(name: keyof typeof FIXTURES): Json {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, FIXTURES[name]), 'utf8')) as Json;
}
function patientOf(b: Json): Json {
  return (b.entry as Array<{ resource: Json }>).map((e) => e.resource).find((r) => r.resourceType === 'Patient')!;
}
const DRAFT_ORDER = {
  resourceType: 'MedicationRequest',
  id: 'draft-1',
  status: 'draft',
  medicationCodeableConcept: {
    coding: [
      {
        system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
        code: '197806',
        display: 'Ibuprofen 600 MG Oral Tablet',
      },
    ],
  },
};

async function prompt(
  name: keyof typeof FIXTURES,
  hook: PromptHook = 'patient-view',
  profile = MODEL_PROFILES['meditron-70b'],
): Promise<BuiltPrompt & { text: string }> {
  const summary = summarize({ record: bundle(name) }, NOW, hook.startsWith('order') ? [DRAFT_ORDER] : []);
  const built = await buildPrompt(hook, summary, profile);
  // The real case is the last user turn (Meditron's prompt shows a synthetic worked example first).
  const text = built.prompt?.slice(built.prompt.lastIndexOf('### User: ')) ?? JSON.stringify(built.messages);
  return { ...built, text };
}

function section(text: string, title: string): string {
  const start = text.indexOf(`${title}`);
  const rest = text.slice(start + title.length);
  const end = rest.search(/\n[A-Z][^\n]*:\n/);
  return end < 0 ? rest : rest.slice(0, end);
}

describe('golden prompts from the Synthea fixtures', () => {
  it('elderly woman on warfarin with atrial fibrillation: both present, and no INR on file to quote', async () => {
    const { text } = await prompt('christin');
    expect(text).toMatch(/Atrial fibrillation[^\n]*\[49436004\]/i);
    expect(section(text, 'Active medications')).toMatch(/warfarin[^\n]*\[855332\]/i);
    expect(section(text, 'Recent labs')).not.toMatch(/INR|Prothrombin time|Coagulation/i);
    expect(text).toContain('sex female');
  });

  it('multimorbid diabetic: metformin, insulin and the eGFR trend with units', async () => {
    const { text } = await prompt('dirk');
    const meds = section(text, 'Active medications');
    expect(meds).toMatch(/Metformin[^\n]*\[860975\]/i);
    expect(meds).toMatch(/insulin|Humulin/i);
    expect(text).toMatch(
      /Estimated Glomerular Filtration Rate: [\d.]+ mL\/min[^\n]*before: [^\n]*\((rising|falling|stable)\)/,
    );
    expect(text).toMatch(/Hemoglobin A1c[^\n]*%/);
    expect(text).toMatch(/Chronic kidney disease stage 1[^\n]*\[431855005\]/);
  });

  it('asthmatic child: asthma and allergies with criticality', async () => {
    const { text } = await prompt('daisey');
    expect(text).toMatch(/asthma/i);
    const allergies = section(text, 'Allergies and intolerances');
    expect(allergies.match(/^ {2}A\d+:/gm)?.length ?? 0).toBeGreaterThanOrEqual(5);
    expect(allergies).toMatch(/criticality low/);
  });

  it.each(Object.keys(FIXTURES).flatMap((f) => HOOKS.map((h) => [f, h] as const)))(
    '%s / %s fits the 4k context with room for the answer',
    async (fixture, hook) => {
      const built = await prompt(fixture as keyof typeof FIXTURES, hook);
      expect(built.manifest.promptTokens).toBeLessThanOrEqual(built.manifest.budgetTokens);
      expect(built.manifest.budgetTokens + built.maxTokens).toBeLessThanOrEqual(4096);
      expect(built.templateVersion).toBe(`${HOOK_TEMPLATES[hook].version}/fastchat-meditron@1`);
      expect(built.stop).toEqual(['</s>', '###', 'Assistant:', 'User:']);
      for (const [handle, ref] of Object.entries(built.manifest.references)) {
        expect(built.text).toContain(`${handle}: `);
        expect(ref).toMatch(/^[A-Za-z]+\/[\w.-]+$/);
      }
      if (hook.startsWith('order')) {
        expect(built.text.indexOf('D1: MedicationRequest: Ibuprofen')).toBeLessThan(built.text.indexOf('Patient:'));
        expect(built.manifest.references.D1).toBe('MedicationRequest/draft-1');
      }
    },
  );

  it('trims the least relevant sections, oldest first, to fit a small context, and records what it left out', async () => {
    const tiny = { ...MODEL_PROFILES['meditron-70b'], contextTokens: 1500 };
    const built = await prompt('dirk', 'order-sign', tiny);
    expect(built.manifest.promptTokens).toBeLessThanOrEqual(built.manifest.budgetTokens);
    expect(Object.values(built.manifest.omitted).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(built.manifest.omitted.orders).toBeUndefined();
    expect(built.manifest.included.orders).toBe(1);
    // The template orders sections by relevance and the least relevant go first: once a section lost lines,
    // every section after it in the template's order was emptied before (immunizations before medications).
    expect(built.manifest.omitted.immunizations ?? 0).toBeGreaterThan(0);
    const order = HOOK_TEMPLATES['order-sign'].sections.filter((s) => s !== 'orders');
    const firstCut = order.findIndex((s) => (built.manifest.omitted[s] ?? 0) > 0);
    for (const s of order.slice(firstCut + 1)) expect(built.manifest.included[s] ?? 0).toBe(0);
    expect(order.indexOf('immunizations')).toBeGreaterThan(order.indexOf('medications'));
    expect(built.text).toMatch(/\(\d+ more left out for length\)/);
    // Every line cut for the budget is listed in the manifest by resource, with the reason.
    const cut = built.manifest.leftOut.filter((l) => l.reason === 'over-budget');
    expect(cut.length).toBe(built.manifest.leftOutCounts['over-budget']);
    expect(cut.every((l) => /^[A-Za-z]+\/[\w.-]+$/.test(l.ref))).toBe(true);
  });

  it('renders chat messages for the chat-tuned profile and counts with its own tokenizer', async () => {
    const chat = await prompt('christin', 'patient-view', MODEL_PROFILES['llama-3-meditron']);
    expect(chat.api).toBe('chat');
    expect(chat.messages?.map((m) => m.role)).toEqual(['system', 'user']);
    expect(chat.prompt).toBeUndefined();
    const base = await prompt('christin', 'patient-view');
    expect(chat.manifest.promptTokens).not.toBe(base.manifest.promptTokens);
  });
});

describe('de-identification: no identifier class reaches the prompt', () => {
  const classes: Array<[string, (p: Json) => string[]]> = [
    [
      'name',
      (p) =>
        (p.name as Array<{ given?: string[]; family?: string }>)
          .flatMap((n) => [...(n.given ?? []), n.family ?? ''])
          .filter(Boolean),
    ],
    ['SSN', (p) => identifiers(p, 'SS')],
    ['MRN', (p) => identifiers(p, 'MR')],
    ["driver's licence", (p) => identifiers(p, 'DL')],
    ['passport', (p) => identifiers(p, 'PPN')],
    ['phone', (p) => (p.telecom as Array<{ value: string }>).map((t) => t.value)],
    ['street address', (p) => (p.address as Array<{ line: string[] }>).flatMap((a) => a.line)],
    [
      'city and postal code',
      (p) =>
        (p.address as Array<{ city: string; postalCode?: string }>).flatMap((a) =>
          [a.city, a.postalCode ?? ''].filter(Boolean),
        ),
    ],
    ["mother's maiden name", (p) => extensionStrings(p, 'patient-mothersMaidenName')],
    [
      'birthplace',
      (p) =>
        (p.extension as Array<{ url: string; valueAddress?: { city: string } }>)
          .filter((e) => e.url.endsWith('patient-birthPlace'))
          .map((e) => e.valueAddress!.city),
    ],
    ['birth date', (p) => [String(p.birthDate)]],
    ['resource id', (p) => [String(p.id)]],
  ];

  // Every class is carried by at least one fixture (the child has no licence or passport).
  const cases = classes.flatMap(([cls, pick]) =>
    (Object.keys(FIXTURES) as Array<keyof typeof FIXTURES>)
      .filter((f) => pick(patientOf(bundle(f))).length > 0)
      .map((f) => [cls, f, pick] as const),
  );

  it('covers every identifier class with at least one fixture', () => {
    expect(new Set(cases.map(([cls]) => cls)).size).toBe(classes.length);
  });

  it.each(cases)('%s of %s', async (_cls, fixture, pick) => {
    const values = pick(patientOf(bundle(fixture)));
    for (const hook of ['patient-view', 'order-sign'] as const) {
      const { text } = await prompt(fixture, hook);
      for (const v of values) expect(text.toLowerCase()).not.toContain(v.toLowerCase());
    }
  });

  it('redacts identifiers smuggled into free text but keeps clinical numbers and codes', async () => {
    const patient = patientOf(bundle('christin'));
    const family = (patient.name as Array<{ family: string }>)[0]!.family;
    const condition = {
      resourceType: 'Condition',
      id: 'c-free',
      clinicalStatus: { coding: [{ code: 'active' }] },
      code: {
        text: `Call ${family} at 555-123-4567 or x@example.org re MRN A1234567, SSN 999-12-3456, seen 2020-03-04, http://ehr.example.org/p/1 from 10.0.0.7; dose 5 mg`,
      },
    };
    const summary = summarize({ patient, extra: condition }, NOW);
    const line = summary.sections.problems[0]!.text;
    for (const leak of [
      family,
      '555-123-4567',
      'x@example.org',
      'A1234567',
      '999-12-3456',
      '2020-03-04',
      'http://ehr.example.org',
      '10.0.0.7',
    ])
      expect(line).not.toContain(leak);
    expect(line).toContain('5 mg');
  });
});

function identifiers(p: Json, type: string): string[] {
  return (p.identifier as Array<{ type?: { coding?: Array<{ code: string }> }; value: string }>)
    .filter((i) => i.type?.coding?.some((c) => c.code === type))
    .map((i) => i.value);
}
function extensionStrings(p: Json, suffix: string): string[] {
  return (p.extension as Array<{ url: string; valueString?: string }>)
    .filter((e) => e.url.endsWith(suffix))
    .map((e) => e.valueString!);
}
