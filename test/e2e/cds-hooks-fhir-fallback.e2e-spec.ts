import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gatewayHeaders } from '../support/internal-call';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { cdsResponseProblems } from '../support/cds-conformance';
import { scrape, seriesValue } from '../support/prometheus-scrape';
import { startFhirServer, type FhirTestServer } from '../support/fhir-server';
import { testStackEnv } from '../support/stack-env';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { prefetchFromSynthea } from '../support/synthea';

const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const DAISEY = 'Daisey_Johns_e916a083-8ee6-4df8-acbe-b711fa791253.json';
const CHRISTIN = 'Christin_Stiedemann_fc6aaaa5-0461-420d-b96c-ebeacc303b51.json';
const TOKEN = `fhir-token-${randomUUID()}`;
// The in-process Medplum memory server takes two seconds or more per Observation search on a loaded machine, and the
// service now asks for three (panel labs by code, recent labs, vital signs) at once: each call gets time for that.
const FHIR_TIMEOUT_MS = 15_000;
// Short, so the test can watch a revoked client's FHIR server drop out of the allow-list without a restart.
const REGISTRY_REFRESH_MS = 500;
const ALL_BUT_IMMUNIZATIONS = ['allergies', 'labPanels', 'observations', 'vitals', 'procedures'];

type Json = Record<string, unknown>;

/** Prefetch gaps are filled from a real FHIR REST server (Medplum router, Synthea data), only when allow-listed. */
describe('cds-hooks FHIR fallback', () => {
  let db: TestDatabase;
  let fhir: FhirTestServer;
  let stack: LocalStack;
  const dir = mkdtempSync(join(tmpdir(), 'meditron-clients-'));
  const clientsFile = join(dir, 'ehr-clients.json');

  /** Clients with the test FHIR server registered, and clients registered without any FHIR server. */
  function writeClients(withFhir: string[], withoutFhir: string[] = []): void {
    const clients = [
      ...withFhir.map((id) => ({ id, issuer: `https://${id}.e2e.test`, fhirBaseUrls: [fhir.baseUrl] })),
      ...withoutFhir.map((id) => ({ id, issuer: `https://${id}.e2e.test` })),
    ];
    writeFileSync(clientsFile, JSON.stringify({ clients }));
  }

  beforeAll(async () => {
    fhir = await startFhirServer({ fixtures: [DIRK, DAISEY, CHRISTIN], requireBearer: TOKEN, pageSize: 5 });
    // some-other-ehr is registered (so cds-hooks lets it call the service) but has no FHIR server of its own.
    writeClients(['e2e-ehr', 'revocable-ehr'], ['some-other-ehr']);
    db = await createTestDatabase('e2e_fhir_fallback');
    stack = await startLocalStack({
      env: testStackEnv({
        DATABASE_URL: db.url,
        EHR_CLIENTS_FILE: clientsFile,
        EHR_CLIENTS_REFRESH_MS: String(REGISTRY_REFRESH_MS),
        FHIR_TIMEOUT_MS: String(FHIR_TIMEOUT_MS),
        HOOK_DEADLINE_MS: String(FHIR_TIMEOUT_MS * 2.5),
        FHIR_MAX_PAGES: '20',
      }),
      modelDoublePort: 0,
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await fhir?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function hook(
    fixture: string,
    opts: { prefetch?: (full: Json) => Json; fhirServer?: string; clientId?: string } = {},
  ) {
    const { patientId, prefetch } = prefetchFromSynthea(fixture);
    const body = {
      hook: 'patient-view',
      hookInstance: randomUUID(),
      fhirServer: opts.fhirServer ?? fhir.baseUrl,
      fhirAuthorization: {
        access_token: TOKEN,
        token_type: 'Bearer',
        expires_in: 300,
        scope: 'user/*.read',
        subject: 'meditron',
      },
      context: { userId: 'Practitioner/example', patientId },
      ...(opts.prefetch ? { prefetch: opts.prefetch(prefetch) } : {}),
    };
    const before = fhir.requests().length;
    const started = Date.now();
    const res = await fetch(`${stack.cdsHooksUrl}/cds-services/meditron-patient-view`, {
      method: 'POST',
      headers: await gatewayHeaders(stack.internalTokenSecret, {
        clientId: opts.clientId ?? 'e2e-ehr',
        path: '/cds-services/meditron-patient-view',
      }),
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      json: (await res.json()) as Json,
      ms: Date.now() - started,
      fhirCalls: fhir.requests().slice(before),
      hookInstance: body.hookInstance,
      patientId,
    };
  }

  it('fetches nothing when the EHR prefetched everything', async () => {
    const res = await hook(DIRK, {
      prefetch: (p) => ({
        ...p,
        ...Object.fromEntries(
          ['allergies', 'labPanels', 'observations', 'vitals', 'immunizations', 'procedures'].map((k) => [
            k,
            { resourceType: 'Bundle', type: 'searchset', total: 0 },
          ]),
        ),
      }),
    });
    expect(res.status).toBe(200);
    expect(cdsResponseProblems(res.json)).toEqual([]);
    expect(res.fhirCalls).toEqual([]);
  });

  it('fetches only the missing keys, with the hook bearer token, and audits each FHIR call like BALP Read/Query', async () => {
    const res = await hook(DAISEY, { prefetch: (p) => ({ patient: p.patient, conditions: p.conditions }) });
    expect(res.status).toBe(200);
    expect(cdsResponseProblems(res.json)).toEqual([]);
    const types = [...new Set(res.fhirCalls.map((c) => c.path.split('?')[0]))].sort();
    expect(types).toEqual(['AllergyIntolerance', 'Immunization', 'MedicationRequest', 'Observation', 'Procedure']);
    expect(res.fhirCalls.every((c) => c.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const audit = await queryRows<{ action: string; outcome: string; detail: Json }>(
      db.url,
      `SELECT action, outcome, detail FROM audit_events WHERE hook_instance = $1 AND action LIKE 'fhir.%' ORDER BY id`,
      [res.hookInstance],
    );
    expect(audit.map((a) => `${a.action}:${a.outcome}:${String(a.detail.resourceType)}`).sort()).toEqual([
      'fhir.search:success:AllergyIntolerance',
      'fhir.search:success:Immunization',
      'fhir.search:success:MedicationRequest',
      // Panel labs by LOINC code, recent labs, vital signs: three queries.
      'fhir.search:success:Observation',
      'fhir.search:success:Observation',
      'fhir.search:success:Observation',
      'fhir.search:success:Procedure',
    ]);
    // Counted on the metrics port by interaction and outcome only: no patient, server or token in any label.
    const metrics = await scrape(stack.metricsUrls.cdsHooks);
    const searches = { interaction: 'search-type', outcome: 'success' };
    expect(seriesValue(metrics, 'meditron_cds_prefetch_fallback_calls_total', searches)).toBeGreaterThanOrEqual(7);
    for (const secret of [res.patientId, res.hookInstance, fhir.baseUrl, TOKEN]) expect(metrics).not.toContain(secret);
  });

  it('fetches everything when there is no prefetch, following paged searches', async () => {
    const res = await hook(DIRK);
    expect(res.status).toBe(200);
    expect((res.json.cards as unknown[]).length).toBeGreaterThan(0);
    expect(res.fhirCalls.some((c) => c.path.startsWith('Patient/'))).toBe(true);
    expect(res.fhirCalls.some((c) => c.path.includes('_offset='))).toBe(true);
  });

  it('refuses to call a fhirServer that is not allow-listed for the client: 412, nothing fetched', async () => {
    const res = await hook(DIRK, { fhirServer: 'http://169.254.169.254/latest/meta-data' });
    expect(res.status).toBe(412);
    expect(res.json).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [expect.objectContaining({ code: 'incomplete', expression: ['prefetch.patient'] })],
    });
    expect(res.fhirCalls).toEqual([]);
    // Audited once, as a refusal, naming the patient and the keys (never the server asked for).
    const refusals = await queryRows<{ patientRef: string; hookInstance: string; detail: Json }>(
      db.url,
      `SELECT patient_ref AS "patientRef", hook_instance::text AS "hookInstance", detail FROM audit_events
        WHERE action = 'hook.refused' AND outcome = 'refused' AND hook_instance = $1`,
      [res.hookInstance],
    );
    expect(refusals).toEqual([
      {
        patientRef: `Patient/${res.patientId}`,
        hookInstance: res.hookInstance,
        detail: expect.objectContaining({ reason: 'prefetch_unavailable', serviceId: 'meditron-patient-view' }),
      },
    ]);
    expect(String(refusals[0]!.detail.keys)).toContain('patient:fhir_server_not_allowed');
    expect(JSON.stringify(refusals)).not.toContain('169.254');
    const other = await hook(DIRK, { clientId: 'some-other-ehr' });
    expect(other.status).toBe(412);
    expect(other.fhirCalls).toEqual([]);
  });

  it('reloads the shared registry every EHR_CLIENTS_REFRESH_MS: a revoked client loses its FHIR server', async () => {
    const onlyImmunizationsMissing = (p: Json): Json => ({
      ...p,
      ...Object.fromEntries(
        ALL_BUT_IMMUNIZATIONS.map((k) => [k, { resourceType: 'Bundle', type: 'searchset', total: 0 }]),
      ),
      immunizations: undefined,
    });
    const allowed = await hook(DIRK, { clientId: 'revocable-ehr', prefetch: onlyImmunizationsMissing });
    expect(allowed.status).toBe(200);
    expect(allowed.fhirCalls.map((c) => c.path.split('?')[0])).toEqual(['Immunization']);
    // An allowed pair never triggers an on-demand reload, so only the background refresh can notice the revocation.
    writeClients(['e2e-ehr'], ['some-other-ehr', 'revocable-ehr']);
    await sleep(REGISTRY_REFRESH_MS * 4);
    const revoked = await hook(DIRK, { clientId: 'revocable-ehr', prefetch: onlyImmunizationsMissing });
    // Immunizations are optional: the hook still answers, from what the EHR sent, with nothing fetched.
    expect(revoked.status).toBe(200);
    expect(revoked.fhirCalls).toEqual([]);
  });

  it('answers 400 naming fhirServer (not 500) for a fhirServer with user info, nothing fetched', async () => {
    const sneaky = fhir.baseUrl.replace('://', '://evil@');
    const res = await hook(DIRK, { fhirServer: sneaky });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [expect.objectContaining({ expression: ['fhirServer'] })],
    });
    expect(JSON.stringify(res.json)).not.toContain('evil');
    expect(res.fhirCalls).toEqual([]);
  });

  it('answers 412 when the FHIR server is down, and in bounded time when it is slow', async () => {
    fhir.setDown(true);
    try {
      expect((await hook(CHRISTIN)).status).toBe(412);
    } finally {
      fhir.setDown(false);
    }
    fhir.setLatency(FHIR_TIMEOUT_MS * 2);
    try {
      const slow = await hook(CHRISTIN);
      expect(slow.status).toBe(412);
      expect(slow.ms).toBeLessThan(FHIR_TIMEOUT_MS * 3);
    } finally {
      fhir.setLatency(0);
    }
  });

  it('never stores the access token', async () => {
    const tables = ['audit_events', 'hook_invocations', 'inference_requests', 'inference_results', 'feedback'];
    for (const table of tables) {
      const rows = await queryRows(db.url, `SELECT 1 FROM ${table} t WHERE row_to_json(t)::text LIKE $1`, [
        `%${TOKEN}%`,
      ]);
      expect({ table, rows }).toEqual({ table, rows: [] });
    }
  });
});
