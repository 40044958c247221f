/** Compliance API at 1M audit rows: generation, direct SQL baseline, searches and exports through the gateway. */
import { runMigrations } from '@app/database';
import { JwksServer, makeTestKey, signToken } from '@app/testing/ehr-tokens';
import { createTestDatabase, type TestDatabase } from '@app/testing/postgres';
import { generateAuditRows, sqlBaseline, type AuditGeneration } from '../lib/audit';
import { startDouble, type Double } from '../lib/double-control';
import { AUDIT_ROWS, log, STEP_S } from '../lib/options';
import { sampleRss, stopChild } from '../lib/procs';
import type { PartRecord } from '../lib/results';
import { round } from '../lib/stats';
import { load } from '../lib/steps';
import { startSut, sutEnv, type Sut } from '../lib/sut-control';
import type { LoadJob, LoadResult } from '../lib/types';

export async function audit(p: PartRecord): Promise<void> {
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  let idp: JwksServer | undefined;
  try {
    db = await createTestDatabase('bench_audit');
    await runMigrations(db.url);
    const gen: AuditGeneration = await generateAuditRows(db.url, AUDIT_ROWS, (m) => log(`  ${m}`));
    p.extra.generation = gen;
    p.extra.sqlBaseline = await sqlBaseline(db.url, gen);

    idp = await new JwksServer().start();
    const key = await makeTestKey('RS256');
    const jwksUrl = idp.publish('/certs', [key.publicJwk]);
    const iss = 'https://idp.bench.test/realms/meditron';
    const aud = 'meditron-gateway';
    double = await startDouble();
    sut = await startSut(
      sutEnv({
        DATABASE_URL: db.url,
        INFERENCE_BACKENDS: `vllm=${double.baseUrl}`,
        STAFF_OIDC_ISSUER: iss,
        STAFF_OIDC_JWKS_URL: jwksUrl,
        STAFF_OIDC_AUDIENCE: aud,
      }),
    );
    const token = await signToken(key, {
      issuer: iss,
      audience: aud,
      expIn: 3000,
      extraClaims: { sub: 'bench-auditor', roles: ['compliance'] },
    });
    const base = (name: string, paths: string[], rate: number): LoadJob => ({
      name,
      origin: sut!.ready.gatewayUrl,
      paths,
      method: 'GET',
      headers: {},
      auth: { kind: 'bearer', token },
      body: { kind: 'none' },
      mode: 'open',
      rate,
      connections: 32,
      durationS: STEP_S,
      timeoutMs: 30_000,
    });
    const searches: Record<string, string[]> = {
      'by patient': gen.samplePatients.map(
        (pt) => `/compliance/audit-events?patient=${encodeURIComponent(pt)}&limit=50`,
      ),
      'by time range (1 h)': gen.sampleWindows.map(
        ([from, to]) =>
          `/compliance/audit-events?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=50`,
      ),
      'by client + action': gen.sampleClients.map(
        (c, i) =>
          `/compliance/audit-events?client=${c}&action=${['hook.answered', 'fhir.read', 'auth.refused'][i % 3]!}&limit=50`,
      ),
      'by patient + time range (30 d)': gen.samplePatients.map(
        (pt, i) =>
          `/compliance/audit-events?patient=${encodeURIComponent(pt)}&from=${encodeURIComponent(gen.sampleWindows[i % gen.sampleWindows.length]![0])}&limit=50`,
      ),
    };
    // Warm-up: the JWKS fetch and first plans.
    await load.run(base('warm-up', searches['by patient']!.slice(0, 20), 10));
    const rows: Array<{
      search: string;
      result: LoadResult;
      rssMb: Record<string, { peakRssMb: number; hwmMb: number }>;
    }> = [];
    for (const [search, paths] of Object.entries(searches)) {
      for (const rate of [10, 50]) {
        const sampler = sampleRss({ sut: sut.child.pid });
        const r = await load.run(base(`audit search ${search} ${rate}/s`, paths, rate));
        rows.push({ search: `${search} @ ${rate}/s`, result: r, rssMb: sampler.stop() });
        log(
          `  audit ${search} ${rate}/s: p50 ${r.latencyMs.p50} p95 ${r.latencyMs.p95} p99 ${r.latencyMs.p99} ms, errors ${r.errors} ${r.firstError ?? ''}`,
        );
      }
    }
    p.extra.searches = rows;
    // Export throughput: NDJSON and CSV of a 7-day window (~78k rows at 1M over 90 days), and one client's month.
    const exports: Array<Record<string, unknown>> = [];
    const [from7, to7] = gen.exportWindow;
    for (const [label, q] of [
      ['7 days, NDJSON', `from=${encodeURIComponent(from7)}&to=${encodeURIComponent(to7)}&format=ndjson`],
      ['7 days, CSV', `from=${encodeURIComponent(from7)}&to=${encodeURIComponent(to7)}&format=csv`],
      ['one patient (hot), NDJSON', `patient=${encodeURIComponent(gen.samplePatients[0]!)}&format=ndjson`],
    ] as const) {
      const sampler = sampleRss({ sut: sut.child.pid });
      const s = performance.now();
      const res = await fetch(`${sut.ready.gatewayUrl}/compliance/audit-events/export?${q}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      let bytes = 0;
      let lines = 0;
      let firstByteMs = 0;
      if (res.body) {
        for await (const chunk of res.body) {
          if (bytes === 0) firstByteMs = performance.now() - s;
          bytes += chunk.length;
          for (const b of chunk) if (b === 10) lines++;
        }
      }
      const ms = performance.now() - s;
      const rows = label.includes('CSV') ? lines - 1 : lines;
      const row = {
        export: label,
        status: res.status,
        rows,
        mb: round(bytes / 1048576),
        seconds: round(ms / 1000),
        rowsPerS: Math.round(rows / (ms / 1000)),
        mbPerS: round(bytes / 1048576 / (ms / 1000)),
        firstByteMs: round(firstByteMs),
        rssMb: sampler.stop(),
      };
      exports.push(row);
      log(
        `  export ${label}: ${rows} rows in ${row.seconds} s (${row.rowsPerS} rows/s, ${row.mbPerS} MB/s), status ${res.status}`,
      );
    }
    p.extra.exports = exports;
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await idp?.close();
    await db?.drop().catch(() => undefined);
  }
}
