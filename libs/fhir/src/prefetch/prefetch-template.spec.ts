import { specExample } from '@app/testing/synthea';
import { resolvePrefetchTemplate } from './prefetch-template';

const context = { patientId: '1288992', encounterId: '89284', userId: 'Practitioner/example' };

describe('resolvePrefetchTemplate', () => {
  it('resolves every template of the spec example', () => {
    const templates = specExample('spec2.0.1_prefetch-templates.json')['prefetch'] as Record<string, string>;
    const roleCtx = { context: { ...context, userId: 'PractitionerRole/r-1' } };
    expect(resolvePrefetchTemplate(templates['patient'] ?? '', roleCtx)).toEqual({ ok: true, url: 'Patient/1288992' });
    expect(resolvePrefetchTemplate(templates['hemoglobin-a1c'] ?? '', roleCtx)).toEqual({
      ok: true,
      url: 'Observation?patient=1288992&code=4548-4&_count=1&sort:desc=date',
    });
    expect(resolvePrefetchTemplate(templates['user'] ?? '', roleCtx)).toEqual({
      ok: true,
      url: 'PractitionerRole?_id=r-1',
    });
  });

  it('reads the user from {{context.userId}} as a Type/id path', () => {
    expect(resolvePrefetchTemplate('{{context.userId}}', { context })).toEqual({
      ok: true,
      url: 'Practitioner/example',
    });
  });

  it('derives each user token only from a userId of its resource type', () => {
    const cases: Array<[string, string]> = [
      ['userPractitionerId', 'Practitioner/123'],
      ['userPractitionerRoleId', 'PractitionerRole/123'],
      ['userPatientId', 'Patient/123'],
      ['userRelatedPersonId', 'RelatedPerson/123'],
    ];
    for (const [token, userId] of cases) {
      expect(resolvePrefetchTemplate(`X?_id={{${token}}}`, { context: { userId } })).toEqual({
        ok: true,
        url: 'X?_id=123',
      });
      expect(resolvePrefetchTemplate(`X?_id={{${token}}}`, { context: { userId: 'Device/123' } })).toMatchObject({
        ok: false,
      });
    }
    expect(
      resolvePrefetchTemplate('Practitioner/{{userPractitionerId}}', { context: { userId: 'PractitionerRole/9' } }),
    ).toEqual({
      ok: false,
      reason: '{{userPractitionerId}} needs a Practitioner user',
    });
  });

  it('prefers the explicit userId over context.userId', () => {
    expect(
      resolvePrefetchTemplate('Patient/{{userPatientId}}', {
        context: { userId: 'Practitioner/1' },
        userId: 'Patient/p9',
      }),
    ).toEqual({ ok: true, url: 'Patient/p9' });
  });

  it('refuses unknown tokens, nested context paths, missing and non-primitive fields', () => {
    expect(resolvePrefetchTemplate('Patient/{{patientId}}', { context })).toEqual({
      ok: false,
      reason: 'unknown token {{patientId}}',
    });
    expect(resolvePrefetchTemplate('X?a={{context.medication.id}}', { context })).toMatchObject({ ok: false });
    expect(resolvePrefetchTemplate('X?a={{context.nope}}', { context })).toMatchObject({ ok: false });
    expect(
      resolvePrefetchTemplate('X?a={{context.draft}}', { context: { draft: { resourceType: 'Bundle' } } }),
    ).toMatchObject({ ok: false });
    expect(resolvePrefetchTemplate('X?a={{context.patientId}', { context })).toEqual({
      ok: false,
      reason: 'malformed token',
    });
  });

  it('joins arrays of ids with commas (FHIR OR)', () => {
    const ctx = { context: { selections: ['MedicationRequest/a', 'MedicationRequest/b'] } };
    expect(resolvePrefetchTemplate('MedicationRequest?_id={{context.selections}}', ctx)).toEqual({
      ok: true,
      url: 'MedicationRequest?_id=MedicationRequest/a,MedicationRequest/b',
    });
  });

  it('encodes values in query strings so they cannot add parameters', () => {
    const ctx = { context: { patientId: '1&_include=*&x=a b#c' } };
    expect(resolvePrefetchTemplate('Condition?patient={{context.patientId}}', ctx)).toEqual({
      ok: true,
      url: 'Condition?patient=1%26_include%3D*%26x%3Da%20b%23c',
    });
  });

  it('refuses path values that are not FHIR ids', () => {
    expect(resolvePrefetchTemplate('Patient/{{context.patientId}}', { context: { patientId: '../admin' } })).toEqual({
      ok: false,
      reason: 'token value is not a FHIR id',
    });
    expect(
      resolvePrefetchTemplate('Patient/{{context.patientId}}', { context: { patientId: '1?_format=xml' } }),
    ).toMatchObject({
      ok: false,
    });
  });
});
