import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { Registry } from 'prom-client';
import {
  AuditChainVerifier,
  AuditWriter,
  batchInsert,
  ChainHeadPublisher,
  type AuditRecord,
  type QueuedAuditRow,
} from '@app/audit';
import { AuditChainRepository } from '@app/database';
import { startAuditDatabase, type AuditTestDatabase } from '../support/audit-db';

const event = (i: number, extra: Partial<AuditRecord> = {}): AuditRecord => ({
  action: 'hook.invoked',
  outcome: 'success',
  service: 'cds-hooks',
  clientId: `ehr-${i % 3}`,
  patientRef: `Patient/p-${i % 7}`,
  requestId: `req-${i}`,
  hookInstance: '0b5f1c8e-2f7d-4c52-9d61-1a2b3c4d5e6f',
  detail: { n: i, text: 'naïve ✓ "quoted" | pipe', flag: i % 2 === 0, none: null },
  ...extra,
});

/** Runs statements as the superuser on one connection (the tamper scenarios). */
async function asSuperuser(url: string, statements: string[]): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

describe('audit trail: hash chain in Postgres, group commit, verification', () => {
  let t: AuditTestDatabase;
  beforeAll(async () => {
    Logger.overrideLogger(false);
    t = await startAuditDatabase('audit_chain');
  });
  afterAll(async () => t?.stop());

  it('chains events from three concurrent writers (three pools) in few INSERTs, and the chain verifies', async () => {
    const writers = await Promise.all(
      (['gateway', 'cdsHooks', 'inferenceProxy'] as const).map(async (app) => {
        // Each app on its own runtime login: INSERT and SELECT on the trail, the chain trigger does the rest.
        const ds = await t.open(`audit-${app}`, t.runtime[app]);
        let inserts = 0;
        const query = ds.query.bind(ds);
        jest.spyOn(ds, 'query').mockImplementation((sql: string, params?: unknown[]) => {
          if (sql.startsWith('INSERT INTO audit_events')) inserts++;
          return query(sql, params);
        });
        return { writer: new AuditWriter(ds, { maxBatch: 64, maxDelayMs: 5 }), inserts: () => inserts };
      }),
    );
    const n = 900;
    await Promise.all(Array.from({ length: n }, (_, i) => writers[i % 3]!.writer.record(event(i))));
    const inserts = writers.reduce((sum, w) => sum + w.inserts(), 0);
    const [{ count }] = await t.ds.query(`SELECT count(*)::int AS count FROM audit_events`);
    expect(count).toBe(n);
    expect(inserts).toBeLessThanOrEqual(Math.ceil(n / 3 / 64) * 3 + 6);
    // eslint-disable-next-line no-console
    console.info(
      `group commit: ${n} events, ${inserts} INSERTs, largest batch ${Math.max(...writers.map((w) => w.writer.stats.largestBatch))}`,
    );
    const result = await new AuditChainVerifier(new AuditChainRepository(t.ds)).verify();
    expect(result).toMatchObject({ valid: true, rowsChecked: n, firstBreak: null });
    for (const w of writers) await w.writer.close();
  });

  it('refuses UPDATE, DELETE and TRUNCATE for everyone, the table owner included', async () => {
    for (const sql of [
      `UPDATE audit_events SET action = 'x' WHERE id = (SELECT min(id) FROM audit_events)`,
      `DELETE FROM audit_events WHERE id = (SELECT min(id) FROM audit_events)`,
      `TRUNCATE audit_events`,
    ]) {
      await expect(t.ds.query(sql)).rejects.toThrow(/append-only/);
    }
  });

  it('retries a batch whose connection was killed (pg_terminate_backend): nothing lost, chain valid', async () => {
    const ds = await t.open('audit-killed');
    const writer = new AuditWriter(ds, { retryBaseMs: 20, retryMaxMs: 100, maxWaitMs: 0 });
    const before = Number((await t.ds.query(`SELECT count(*) AS c FROM audit_events`))[0].c);
    // Hold the chain head so the writer's INSERT waits on the lock; then kill its backend mid-statement.
    const blocker = new Client({ connectionString: t.db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM audit_chain_head FOR UPDATE');
    const pending = Array.from({ length: 40 }, (_, i) => writer.record(event(10_000 + i)));
    let killed = 0;
    for (let i = 0; i < 100 && killed === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const rows: Array<{ k: boolean }> = await t.ds.query(
        `SELECT pg_terminate_backend(pid) AS k FROM pg_stat_activity
         WHERE application_name = 'audit-killed' AND query LIKE 'INSERT INTO audit_events%' AND wait_event_type = 'Lock'`,
      );
      killed = rows.filter((r) => r.k).length;
    }
    expect(killed).toBe(1);
    await blocker.query('ROLLBACK');
    await blocker.end();
    await Promise.all(pending);
    expect(writer.stats.failedAttempts).toBeGreaterThanOrEqual(1);
    const after = Number((await t.ds.query(`SELECT count(*) AS c FROM audit_events`))[0].c);
    expect(after - before).toBe(40);
    expect((await new AuditChainVerifier(new AuditChainRepository(t.ds)).verify()).valid).toBe(true);
    await writer.close();
  });

  it('stores an event once when its batch is written again (a spool replay, a retry after a lost commit ack)', async () => {
    const row = (i: number): QueuedAuditRow => ({ ...event(i), eventId: randomUUID(), recordedAt: new Date() });
    const rows = Array.from({ length: 5 }, (_, i) => row(20_000 + i));
    const count = async () => Number((await t.ds.query(`SELECT count(*) AS c FROM audit_events`))[0].c);
    const before = await count();
    const batch = batchInsert(rows);
    await t.ds.query(batch.sql, batch.params);
    await t.ds.query(batch.sql, batch.params);
    const mixed = batchInsert([rows[2]!, row(20_010)]);
    await t.ds.query(mixed.sql, mixed.params);
    // The same event recorded again later (a redelivered inference under its deterministic id).
    const again = batchInsert([{ ...rows[3]!, recordedAt: new Date(rows[3]!.recordedAt.getTime() + 60_000) }]);
    await t.ds.query(again.sql, again.params);
    expect((await count()) - before).toBe(6);
    const dup: Array<{ n: number }> = await t.ds.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE event_id = ANY($1::uuid[]) GROUP BY event_id`,
      [rows.map((r) => r.eventId)],
    );
    expect(dup.map((d) => d.n)).toEqual([1, 1, 1, 1, 1]);
    expect(await new AuditChainVerifier(new AuditChainRepository(t.ds)).verify()).toMatchObject({
      valid: true,
      firstBreak: null,
    });
  });

  it('publishes the chain head as a log line and gauges', async () => {
    const registry = new Registry();
    const publisher = new ChainHeadPublisher(new AuditChainRepository(t.ds), { intervalMs: 60_000, registry });
    const { head } = await publisher.publish();
    const metrics = await registry.getMetricsAsJSON();
    const id = metrics.find((m) => m.name === 'meditron_audit_chain_head_id');
    expect(id?.values[0]?.value).toBe(Number(head.lastId));
    expect(head.lastHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies tens of thousands of rows in batches and measures the speed', async () => {
    // In statements of 500 rows: each row moves the chain head, so one huge statement would walk a long row-version chain.
    for (let i = 0; i < 40; i++) {
      await t.ds.query(`
        INSERT INTO audit_events (recorded_at, action, outcome, service, patient_ref, detail)
        SELECT now(), 'fhir.read', 'success', 'cds-hooks', 'Patient/p-' || (g % 100), jsonb_build_object('g', g)
        FROM generate_series(1, 500) g`);
    }
    const result = await new AuditChainVerifier(new AuditChainRepository(t.ds), { batchSize: 5000 }).verify();
    expect(result.valid).toBe(true);
    expect(result.rowsChecked).toBeGreaterThan(20_000);
    // eslint-disable-next-line no-console
    console.info(
      `verification: ${result.rowsChecked} rows in ${result.durationMs} ms (${Math.round((result.rowsChecked / Math.max(1, result.durationMs)) * 1000)} rows/s)`,
    );
  });

  it('names the row a superuser deleted or altered behind the trigger (session_replication_role = replica)', async () => {
    const ids: Array<{ id: string }> = await t.ds.query(`SELECT id::text AS id FROM audit_events ORDER BY id LIMIT 60`);
    const deleted = ids[50]!.id;
    const afterDeleted = ids[51]!.id;
    await asSuperuser(t.db.url, [
      `SET session_replication_role = replica`,
      `DELETE FROM audit_events WHERE id = ${deleted}`,
      `SET session_replication_role = origin`,
    ]);
    expect((await new AuditChainVerifier(new AuditChainRepository(t.ds)).verify()).firstBreak).toEqual({
      id: afterDeleted,
      reason: 'prev_link_mismatch',
      expectedAfterId: ids[49]!.id,
    });

    const altered = ids[20]!.id;
    await asSuperuser(t.db.url, [
      `SET session_replication_role = replica`,
      `UPDATE audit_events SET patient_ref = 'Patient/someone-else' WHERE id = ${altered}`,
      `SET session_replication_role = origin`,
    ]);
    const result = await new AuditChainVerifier(new AuditChainRepository(t.ds)).verify();
    expect(result.valid).toBe(false);
    expect(result.firstBreak).toEqual({ id: altered, reason: 'content_hash_mismatch', expectedAfterId: ids[19]!.id });
  });
});
