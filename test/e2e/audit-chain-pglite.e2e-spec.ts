import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AuditChainVerifier, AuditWriter, type AuditRecord } from '@app/audit';
import {
  AuditChainRepository,
  createDataSource,
  runMigrations,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from '@app/database';

const event = (i: number): AuditRecord => ({
  action: 'fhir.search',
  outcome: i % 5 === 0 ? 'failure' : 'success',
  service: 'cds-hooks',
  patientRef: `Patient/p-${i % 4}`,
  hookInstance: 'd3c7a0a4-5b1e-4f7e-9d2c-0f1e2d3c4b5a',
  detail: { i, note: 'ünïcödé' },
});

/** The local stack runs on PGlite: the chain trigger, group commit and verification must work there too. */
describe('audit trail on embedded PGlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meditron-audit-pglite-'));
  let pg: EmbeddedPostgres;
  let ds: DataSource;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    pg = await startEmbeddedPostgres({ dataDir: dir });
    await runMigrations(pg.url);
    ds = createDataSource({ url: pg.url, poolSize: 4 });
    await ds.initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('chains concurrent group-committed events; a row altered behind the trigger is named', async () => {
    const writer = new AuditWriter(ds, { maxBatch: 16, maxDelayMs: 2 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => writer.record(event(i))));
    await writer.close();
    expect(writer.stats.rows).toBe(100);
    expect(writer.stats.batches).toBeLessThan(20);
    expect(await new AuditChainVerifier(new AuditChainRepository(ds), { batchSize: 32 }).verify()).toMatchObject({
      valid: true,
      rowsChecked: 100,
    });

    await expect(ds.query(`UPDATE audit_events SET outcome = 'success'`)).rejects.toThrow(/append-only/);
    const [{ id }] = await ds.query(`SELECT id::text AS id FROM audit_events ORDER BY id OFFSET 42 LIMIT 1`);
    // One connection, one transaction: PGlite multiplexes clients over one session.
    await ds.transaction(async (m) => {
      await m.query(`SET LOCAL session_replication_role = replica`);
      await m.query(`UPDATE audit_events SET action = 'fhir.read' WHERE id = $1`, [id]);
    });
    const result = await new AuditChainVerifier(new AuditChainRepository(ds), { batchSize: 32 }).verify();
    expect(result.firstBreak).toMatchObject({ id, reason: 'content_hash_mismatch' });
  });
});
