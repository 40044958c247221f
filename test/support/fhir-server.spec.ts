import { startFhirServer, type FhirTestServer } from './fhir-server';

const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const DAISEY = 'Daisey_Johns_e916a083-8ee6-4df8-acbe-b711fa791253.json';
const DIRK_ID = '948e608d-e408-4788-8cf2-8157c49c2940';
const DAISEY_ID = '6daf3d7c-1620-4d79-9396-990469306470';

type Json = Record<string, unknown>;

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Json };
}

describe('startFhirServer (Medplum in-memory FHIR R4 over HTTP)', () => {
  let server: FhirTestServer;

  beforeAll(async () => {
    server = await startFhirServer({ fixtures: [DIRK, DAISEY], pageSize: 5 });
  });
  afterAll(() => server.close());

  it('keeps the Synthea resource ids and maps fixture files to Patient ids', async () => {
    expect(server.patients).toEqual({ [DIRK]: DIRK_ID, [DAISEY]: DAISEY_ID });
    const { status, body } = await getJson(`${server.baseUrl}/Patient/${DIRK_ID}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ resourceType: 'Patient', id: DIRK_ID, birthDate: '1971-12-07' });
  });

  it('answers an unknown id with 404 and an OperationOutcome', async () => {
    const { status, body } = await getJson(`${server.baseUrl}/Patient/does-not-exist`);
    expect(status).toBe(404);
    expect(body['resourceType']).toBe('OperationOutcome');
  });

  it('searches with resolved references and the patient, status and code parameters', async () => {
    const conditions = await getJson(
      `${server.baseUrl}/Condition?patient=${DIRK_ID}&clinical-status=active&_count=100`,
    );
    expect(conditions.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 14 });
    const meds = await getJson(`${server.baseUrl}/MedicationRequest?patient=${DIRK_ID}&status=active&_count=100`);
    expect(meds.body['total']).toBe(4);
    const a1c = await getJson(`${server.baseUrl}/Observation?patient=${DIRK_ID}&code=4548-4&_count=100`);
    expect(a1c.body['total']).toBe(8);
    const allergies = await getJson(`${server.baseUrl}/AllergyIntolerance?patient=${DAISEY_ID}&_count=100`);
    expect(allergies.body['total']).toBe(8);
    const none = await getJson(`${server.baseUrl}/AllergyIntolerance?patient=${DIRK_ID}`);
    expect(none.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    expect(none.body['entry']).toBeUndefined();
  });

  it('ignores search parameters it does not know, as FHIR lenient handling does (spec template sort:desc)', async () => {
    const { body } = await getJson(
      `${server.baseUrl}/Observation?patient=${DIRK_ID}&code=4548-4&_count=1&sort:desc=date`,
    );
    expect(body['total']).toBe(8);
    expect(body['entry']).toHaveLength(1);
  });

  it('pages by pageSize with absolute next links carrying _offset', async () => {
    const first = await getJson(`${server.baseUrl}/Condition?patient=${DIRK_ID}`);
    expect(first.body['entry']).toHaveLength(5);
    const next = (first.body['link'] as Array<{ relation: string; url: string }>).find((l) => l.relation === 'next');
    expect(next?.url).toMatch(new RegExp(`^${server.baseUrl}/Condition\\?.*_offset=5`));
    const second = await getJson(next?.url ?? '');
    const ids = (b: Json) => (b['entry'] as Array<{ resource: { id: string } }>).map((e) => e.resource.id);
    expect(ids(second.body)).toHaveLength(5);
    expect(ids(second.body).some((id) => ids(first.body).includes(id))).toBe(false);
  });

  it('records requests with their authorization header', async () => {
    const before = server.requests().length;
    await fetch(`${server.baseUrl}/Patient/${DIRK_ID}`, { headers: { authorization: 'Bearer abc' } });
    expect(server.requests().slice(before)).toEqual([
      { method: 'GET', path: `Patient/${DIRK_ID}`, authorization: 'Bearer abc' },
    ]);
  });

  it('requires the bearer token when configured', async () => {
    const guarded = await startFhirServer({ fixtures: [DIRK], requireBearer: 'secret' });
    try {
      expect((await getJson(`${guarded.baseUrl}/Patient/${DIRK_ID}`)).status).toBe(401);
      expect((await getJson(`${guarded.baseUrl}/Patient/${DIRK_ID}`, { authorization: 'Bearer wrong' })).status).toBe(
        401,
      );
      expect((await getJson(`${guarded.baseUrl}/Patient/${DIRK_ID}`, { authorization: 'Bearer secret' })).status).toBe(
        200,
      );
    } finally {
      await guarded.close();
    }
  });

  it('adds latency and can go down and come back', async () => {
    server.setLatency(150);
    const t0 = Date.now();
    await getJson(`${server.baseUrl}/Patient/${DIRK_ID}`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    server.setLatency(0);

    server.setDown(true);
    await expect(fetch(`${server.baseUrl}/Patient/${DIRK_ID}`)).rejects.toThrow();
    server.setDown(false);
    expect((await getJson(`${server.baseUrl}/Patient/${DIRK_ID}`)).status).toBe(200);
  });
});
