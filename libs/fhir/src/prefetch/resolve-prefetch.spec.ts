import type { Bundle } from 'fhir/r4';
import { startFhirServer, type FhirTestServer } from '@app/testing/fhir-server';
import { prefetchFromSynthea } from '@app/testing/synthea';
import { resolvePrefetch, type ResolvePrefetchInput } from './resolve-prefetch';

const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const TOKEN = 'hook-access-token';

const templates = {
  patient: 'Patient/{{context.patientId}}',
  conditions: 'Condition?patient={{context.patientId}}',
  medications: 'MedicationRequest?patient={{context.patientId}}',
  allergies: 'AllergyIntolerance?patient={{context.patientId}}',
};

describe('resolvePrefetch against a real FHIR server', () => {
  let server: FhirTestServer;
  let synthea: ReturnType<typeof prefetchFromSynthea>;
  const allergies = { resourceType: 'Bundle', type: 'searchset', total: 0 };
  const input = (o: Partial<ResolvePrefetchInput> = {}): ResolvePrefetchInput => ({
    templates,
    hookContext: { patientId: synthea.patientId, userId: 'Practitioner/p1' },
    fhirServer: server.baseUrl,
    accessToken: TOKEN,
    fhirServerAllowed: true,
    timeoutMs: 2000,
    maxPages: 10,
    ...o,
  });
  const newRequests = async (fn: () => Promise<unknown>) => {
    const before = server.requests().length;
    await fn();
    return server.requests().slice(before);
  };

  beforeAll(async () => {
    synthea = prefetchFromSynthea(DIRK);
    server = await startFhirServer({ fixtures: [DIRK], pageSize: 10, requireBearer: TOKEN });
  });
  afterAll(() => server.close());

  it('full prefetch: uses what the EHR sent and calls nothing', async () => {
    let result: Awaited<ReturnType<typeof resolvePrefetch>> | undefined;
    const requests = await newRequests(async () => {
      result = await resolvePrefetch(input({ prefetch: { ...synthea.prefetch, allergies } }));
    });
    expect(requests).toEqual([]);
    expect(result).toEqual({ data: { ...synthea.prefetch, allergies }, fetched: [], unavailable: [], audit: [] });
  });

  it('partial prefetch: fetches only the gaps, with the bearer token, and audits each call', async () => {
    const prefetch = {
      patient: synthea.prefetch['patient'],
      conditions: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] },
      allergies,
    };
    let result: Awaited<ReturnType<typeof resolvePrefetch>> | undefined;
    const requests = await newRequests(async () => {
      result = await resolvePrefetch(input({ prefetch }));
    });
    // conditions: 18 matches over two pages of 10; medications: one page.
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.path.split('?')[0]))).toEqual(new Set(['Condition', 'MedicationRequest']));
    expect(requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(result?.fetched.sort()).toEqual(['conditions', 'medications']);
    expect(result?.unavailable).toEqual([]);
    expect(result?.data['patient']).toBe(synthea.prefetch['patient']);
    expect(result?.data['allergies']).toBe(allergies);
    expect((result?.data['conditions'] as Bundle).total).toBe(18);
    expect((result?.data['conditions'] as Bundle).entry).toHaveLength(18);
    expect(result?.audit).toEqual(
      expect.arrayContaining([
        { key: 'conditions', interaction: 'search-type', resourceType: 'Condition', outcome: 'success', pages: 2 },
        {
          key: 'medications',
          interaction: 'search-type',
          resourceType: 'MedicationRequest',
          outcome: 'success',
          pages: 1,
        },
      ]),
    );
    // The audit names no query values (the patient id).
    expect(JSON.stringify(result?.audit)).not.toContain(synthea.patientId);
  });

  it('no prefetch: fetches every key', async () => {
    const result = await resolvePrefetch(input());
    expect(result.fetched.sort()).toEqual(['allergies', 'conditions', 'medications', 'patient']);
    expect(result.unavailable).toEqual([]);
    expect(result.data['patient']).toMatchObject({ resourceType: 'Patient', id: synthea.patientId });
    expect(result.data['allergies']).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    expect(result.audit.find((a) => a.key === 'patient')).toEqual({
      key: 'patient',
      interaction: 'read',
      resourceType: 'Patient',
      outcome: 'success',
      pages: 1,
    });
  });

  it('FHIR server not allowed: calls nothing and every gap is unavailable', async () => {
    const requests = await newRequests(async () => {
      const result = await resolvePrefetch(
        input({ fhirServerAllowed: false, prefetch: { patient: synthea.prefetch['patient'] } }),
      );
      expect(result.unavailable).toEqual([
        { key: 'conditions', reason: 'fhir_server_not_allowed' },
        { key: 'medications', reason: 'fhir_server_not_allowed' },
        { key: 'allergies', reason: 'fhir_server_not_allowed' },
      ]);
      expect(result.fetched).toEqual([]);
      expect(Object.keys(result.data)).toEqual(['patient']);
    });
    expect(requests).toEqual([]);
  });

  it('no fhirServer: gaps are unavailable with no_fhir_server', async () => {
    const result = await resolvePrefetch(input({ fhirServer: undefined, prefetch: {} }));
    expect(new Set(result.unavailable.map((u) => u.reason))).toEqual(new Set(['no_fhir_server']));
    expect(result.unavailable).toHaveLength(4);
  });

  it('keeps the EHR\'s "no data" answer (null, empty Bundle) when it cannot be re-checked', async () => {
    const emptyBundle = { resourceType: 'Bundle', type: 'searchset' };
    const result = await resolvePrefetch(
      input({ fhirServerAllowed: false, prefetch: { ...synthea.prefetch, allergies: emptyBundle, patient: null } }),
    );
    expect(result.unavailable).toEqual([]);
    expect(result.data['allergies']).toBe(emptyBundle);
    expect(result.data['patient']).toBeNull();
  });

  it('reports fetch failures and unresolvable templates per key', async () => {
    server.setDown(true);
    try {
      const result = await resolvePrefetch(
        input({
          templates: { patient: templates.patient, user: 'PractitionerRole?_id={{userPractitionerRoleId}}' },
          prefetch: {},
        }),
      );
      expect(result.unavailable).toEqual([
        { key: 'patient', reason: 'unreachable' },
        { key: 'user', reason: 'template_unresolvable' },
      ]);
      expect(result.audit).toEqual([
        { key: 'patient', interaction: 'read', resourceType: 'Patient', outcome: 'unreachable', pages: 0 },
      ]);
    } finally {
      server.setDown(false);
    }
  });

  it('maps a refused token to unauthorized', async () => {
    const result = await resolvePrefetch(input({ accessToken: 'stale', templates: { patient: templates.patient } }));
    expect(result.unavailable).toEqual([{ key: 'patient', reason: 'unauthorized' }]);
  });

  it('fetches required keys first, and nothing else when one of them cannot be had', async () => {
    const calls = await newRequests(async () => {
      const result = await resolvePrefetch(
        input({ hookContext: { patientId: 'no-such-patient' }, requiredKeys: ['patient'] }),
      );
      expect(result.unavailable).toEqual([
        { key: 'patient', reason: 'not_found' },
        { key: 'conditions', reason: 'required_key_unavailable' },
        { key: 'medications', reason: 'required_key_unavailable' },
        { key: 'allergies', reason: 'required_key_unavailable' },
      ]);
    });
    expect(calls.map((c) => c.path.split('/')[0])).toEqual(['Patient']);
    const ok = await resolvePrefetch(input({ requiredKeys: ['patient'] }));
    expect(ok.unavailable).toEqual([]);
    expect(Object.keys(ok.data).sort()).toEqual(['allergies', 'conditions', 'medications', 'patient']);
  });
});
