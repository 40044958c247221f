import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditChainVerifier } from '@app/audit';
import { AuditChainRepository } from '@app/database';
import { startComplianceHarness, type ComplianceHarness } from '../test/support/compliance-harness';
import { artifactsDir } from '../test/support/headless-chromium';

/**
 * Search and export over a large audit table: AUDIT_BENCH_ROWS rows (default one million) through the chain
 * trigger, then p50/p99 of typical compliance searches over HTTP. Minutes long: not part of `npm test`; run with `npm run bench:audit`.
 */
const ROWS = Number(process.env.AUDIT_BENCH_ROWS ?? 1_000_000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

describe(`audit search benchmark (${ROWS} rows)`, () => {
  let h: ComplianceHarness;
  let token: string;
  const results: Record<string, unknown> = { rows: ROWS };

  beforeAll(async () => {
    h = await startComplianceHarness();
    token = await h.staffToken('bench', ['compliance']);
    const ds = h.dataSource;
    await ds.query(`SELECT audit_events_ensure_partitions(3, (now() - interval '5 months')::date)`);
    const started = Date.now();
    const perStatement = 1000;
    for (let done = 0; done < ROWS; done += perStatement) {
      await ds.query(
        `INSERT INTO audit_events (recorded_at, action, outcome, service, actor, client_id, tenant, patient_ref, request_id, detail)
         SELECT now() - ((($1::bigint + g) % 13000000) || ' seconds')::interval,
                (ARRAY['hook.invoked','fhir.read','fhir.search','hook.answered','inference.completed','feedback.received','auth.refused','compliance.search'])[1 + (g % 8)],
                CASE WHEN g % 50 = 0 THEN 'refused' WHEN g % 97 = 0 THEN 'failure' ELSE 'success' END,
                'cds-hooks', 'user-' || (g % 500), 'ehr-' || (g % 50), 'hospital-' || (g % 5),
                'Patient/p' || (($1::bigint + g) * 7919 % 10000), 'req-' || ($1::bigint + g), jsonb_build_object('g', $1::bigint + g)
         FROM generate_series(1, $2::int) g`,
        [done, Math.min(perStatement, ROWS - done)],
      );
    }
    results['insertRowsPerS'] = Math.round(ROWS / ((Date.now() - started) / 1000));
    await ds.query('ANALYZE audit_events');
  }, 1_800_000);
  afterAll(async () => {
    writeFileSync(join(artifactsDir('bench'), 'audit-search-bench.json'), JSON.stringify(results, null, 2));
    // eslint-disable-next-line no-console
    console.info(JSON.stringify(results, null, 2));
    await h?.stop();
  });

  it('answers typical searches quickly (p50/p99 over HTTP, audit write included)', async () => {
    const now = Date.now();
    const day = 86_400_000;
    const cases: Record<string, (i: number) => string> = {
      patient: (i) => `/compliance/audit-events?patient=Patient%2Fp${(i * 37) % 10000}`,
      patientWeek: (i) =>
        `/compliance/audit-events?patient=Patient%2Fp${(i * 41) % 10000}&from=${new Date(now - 60 * day).toISOString()}&to=${new Date(now - 53 * day).toISOString()}`,
      clientRefused: (i) => `/compliance/audit-events?client=ehr-${i % 50}&outcome=refused`,
      actorAction: (i) => `/compliance/audit-events?actor=user-${i % 500}&action=fhir.read`,
      fhirPatient: (i) =>
        `/fhir/AuditEvent?patient=p${(i * 43) % 10000}&date=ge${new Date(now - 90 * day).toISOString().slice(0, 10)}`,
      exportPatientNdjson: (i) =>
        `/compliance/audit-events/export?format=ndjson&patient=Patient%2Fp${(i * 47) % 10000}`,
    };
    for (const [name, path] of Object.entries(cases)) {
      const times: number[] = [];
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        const res = await fetch(`${h.url}${path(i)}`, { headers: { authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      results[name] = { p50Ms: +percentile(times, 50).toFixed(1), p99Ms: +percentile(times, 99).toFixed(1) };
    }
  }, 600_000);

  it('verifies the whole chain', async () => {
    const v = await new AuditChainVerifier(new AuditChainRepository(h.dataSource)).verify();
    expect(v.valid).toBe(true);
    results['verify'] = {
      rows: v.rowsChecked,
      ms: v.durationMs,
      rowsPerS: Math.round(v.rowsChecked / (v.durationMs / 1000)),
    };
  }, 600_000);
});
