import { parseFindings, renderHookPrompt, summarize } from '@app/prompts';

const prefetch = {
  patient: {
    resourceType: 'Patient',
    id: 'pat-1',
    name: [{ family: 'Kuhlman', given: ['Dirk'] }],
    birthDate: '1971-12-07',
    gender: 'male',
    identifier: [{ system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-12-3456' }],
  },
  conditions: {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [
      {
        resource: {
          resourceType: 'Condition',
          id: 'c1',
          clinicalStatus: { coding: [{ code: 'active' }] },
          code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes' }] },
        },
      },
      {
        resource: {
          resourceType: 'Condition',
          id: 'c2',
          clinicalStatus: { coding: [{ code: 'resolved' }] },
          code: { text: 'Sprained ankle' },
        },
      },
    ],
  },
  medications: {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [
      {
        resource: {
          resourceType: 'MedicationRequest',
          id: 'm1',
          status: 'active',
          medicationCodeableConcept: {
            coding: [
              { system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '860975', display: 'metformin ER 500 MG' },
            ],
          },
        },
      },
    ],
  },
};

describe('patient-view prompt', () => {
  const summary = summarize(prefetch, new Date('2026-11-25T00:00:00Z'));

  it('keeps age, sex, active problems and medications with their codes', () => {
    expect(summary.ageYears).toBe(54);
    expect(summary.sex).toBe('male');
    expect(summary.problems.map((p) => p.text)).toEqual(['Diabetes']);
    expect(summary.medications.map((m) => m.code)).toEqual(['860975']);
    expect(summary.references.get('M1')).toBe('MedicationRequest/m1');
  });

  it('leaves names, identifiers, birth date and resource ids out of the prompt', () => {
    const prompt = renderHookPrompt('patient-view', summary);
    expect(prompt.text).toContain('54-year-old, sex male');
    expect(prompt.text).toContain('P1: Diabetes [44054006]');
    for (const leak of ['Kuhlman', 'Dirk', '999-12-3456', '1971', 'pat-1', 'Sprained']) {
      expect(prompt.text).not.toContain(leak);
    }
    expect(prompt.text.startsWith('<|im_start|>system\n')).toBe(true);
    expect(prompt.text.endsWith('<|im_start|>assistant\n')).toBe(true);
    expect(prompt.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('puts the draft orders first for order hooks, with handles mapped back to their resources', () => {
    const withOrders = summarize(prefetch, new Date('2026-11-25T00:00:00Z'), [
      { resourceType: 'MedicationRequest', id: 'draft-1', medicationCodeableConcept: { text: 'Ibuprofen 800 MG' } },
    ]);
    const prompt = renderHookPrompt('order-sign', withOrders);
    expect(prompt.templateVersion).toBe('order-sign@0.1.0');
    expect(prompt.text.indexOf('D1: Ibuprofen 800 MG')).toBeLessThan(prompt.text.indexOf('Active problems'));
    expect(prompt.text).toContain('about to sign the draft orders');
    expect(withOrders.references.get('D1')).toBe('MedicationRequest/draft-1');
    expect(renderHookPrompt('patient-view', withOrders).hash).not.toBe(prompt.hash);
  });

  it('parses well-formed findings and names what is wrong with the rest', () => {
    expect(parseFindings('{"findings":[{"summary":"s","indicator":"info"}]}').ok).toBe(true);
    expect(parseFindings('{"findings":[{"summary":"s","indicator":"urgent"}]}')).toEqual({
      ok: false,
      reason: 'schema_mismatch',
    });
    expect(parseFindings('{"findings":[')).toEqual({ ok: false, reason: 'not_json' });
  });
});
