import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditChainVerifier, AuditRetention, AuditWriter } from '@app/audit';
import { allEntities, createDataSource } from '@app/database';
import { allMigrations } from '../../libs/database/src/migrations';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const monthStart = (offset: number, now = new Date()) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));

/** Monthly partitions: the migration keeps rows and chain; a purge drops only whole expired months and says so. */
describe('audit retention: monthly partitions and purge', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase('audit_retention');
    // Everything up to the hash chain, then rows, then the partitioning migration on top of them.
    const partitioning = allMigrations.findIndex((m) => m.name === 'AuditPartitions1764400200000');
    const before = new DataSource({
      type: 'postgres',
      url: db.url,
      entities: allEntities,
      migrations: allMigrations.slice(0, partitioning),
    });
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    for (const [offset, n] of [
      [-2, 30],
      [-1, 20],
      [0, 10],
    ] as const) {
      await before.query(
        `INSERT INTO audit_events (recorded_at, action, outcome, service, patient_ref, detail)
         SELECT $1::timestamptz + g * interval '1 minute', 'fhir.read', 'success', 'cds-hooks', 'Patient/r', '{}'
         FROM generate_series(1, $2) g`,
        [monthStart(offset), n],
      );
    }
    await before.destroy();
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('partitions the table by month, keeping every row, id and hash, and the chain goes on', async () => {
    const [{ partitioned }] = await ds.query(
      `SELECT count(*)::int AS partitioned FROM pg_partitioned_table WHERE partrelid = 'audit_events'::regclass`,
    );
    expect(partitioned).toBe(1);
    const parts: Array<{ name: string; n: number }> = await ds.query(
      `SELECT tableoid::regclass::text AS name, count(*)::int AS n FROM audit_events GROUP BY 1 ORDER BY 1`,
    );
    const month = (o: number) => {
      const d = monthStart(o);
      return `audit_events_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
    };
    expect(parts).toEqual([
      { name: month(-2), n: 30 },
      { name: month(-1), n: 20 },
      { name: month(0), n: 10 },
    ]);
    const writer = new AuditWriter(ds);
    await Promise.all(
      Array.from({ length: 5 }, () =>
        writer.record({ action: 'hook.invoked', outcome: 'success', service: 'cds-hooks' }),
      ),
    );
    await writer.close();
    expect(await new AuditChainVerifier(ds).verify()).toMatchObject({ valid: true, rowsChecked: 65 });
    await expect(ds.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
    await expect(ds.query(`TRUNCATE ${month(-1)}`)).rejects.toThrow(/append-only/);
    await expect(ds.query(`UPDATE ${month(0)} SET action = 'x'`)).rejects.toThrow(/append-only/);
  });

  it('creates upcoming partitions idempotently; rows outside them land in the default partition', async () => {
    const retention = new AuditRetention(ds);
    expect(await retention.ensurePartitions(3)).toBe(0);
    expect(await retention.ensurePartitions(5)).toBe(2);
    await ds.query(
      `INSERT INTO audit_events (recorded_at, action, outcome, service, detail) VALUES (now() + interval '10 years', 'clock.skew', 'success', 'gateway', '{}')`,
    );
    const [{ part }] = await ds.query(
      `SELECT tableoid::regclass::text AS part FROM audit_events WHERE action = 'clock.skew'`,
    );
    expect(part).toBe('audit_events_default');
  });

  it('purges only whole expired months, moves the chain anchor, records the purge; the chain still verifies', async () => {
    const retention = new AuditRetention(ds);
    // Keep one month: the month two back has ended before the cutoff, last month has not.
    const result = await retention.purge(1);
    expect(result.partitions).toEqual([expect.objectContaining({ rows: 30 })]);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE recorded_at < $1`, [
      monthStart(-1),
    ]);
    expect(n).toBe(0);
    const [{ kept }] = await ds.query(
      `SELECT count(*)::int AS kept FROM audit_events WHERE recorded_at >= $1 AND recorded_at < $2`,
      [monthStart(-1), monthStart(0)],
    );
    expect(kept).toBe(20);
    const events: Array<{ detail: Record<string, unknown> }> = await ds.query(
      `SELECT detail FROM audit_events WHERE action = 'audit.retention.purge'`,
    );
    expect(events).toEqual([
      { detail: expect.objectContaining({ rows: 30, retainMonths: 1, anchorId: result.anchorId }) },
    ]);
    expect(await new AuditChainVerifier(ds).verify()).toMatchObject({ valid: true });
    expect((await retention.purge(1)).partitions).toEqual([]);
  });
});
