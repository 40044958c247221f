import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditChainVerifier, AuditWriter } from '@app/audit';
import { allEntities, AuditChainRepository, createDataSource } from '@app/database';
import { allMigrations } from '../../libs/database/src/migrations';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { runtimeUrls } from '../support/runtime-roles';

const monthStart = (offset: number, now = new Date()) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));

const monthName = (o: number) => {
  const d = monthStart(o);
  return `audit_events_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};

/** Monthly partitions: the migration keeps rows and chain; a purge drops only whole expired months and says so. */
describe('audit retention: monthly partitions and purge', () => {
  let db: TestDatabase;
  let ds: DataSource;
  /** The gateway's runtime login: maintenance runs as it, through the owner's SECURITY DEFINER routines. */
  let gateway: DataSource;

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
    gateway = createDataSource({ url: (await runtimeUrls(db.url)).gateway, poolSize: 2 });
    await gateway.initialize();
  });
  afterAll(async () => {
    await gateway?.destroy();
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
    const month = monthName;
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
    expect(await new AuditChainVerifier(new AuditChainRepository(ds)).verify()).toMatchObject({
      valid: true,
      rowsChecked: 65,
    });
    await expect(ds.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
    await expect(ds.query(`TRUNCATE ${month(-1)}`)).rejects.toThrow(/append-only/);
    await expect(ds.query(`UPDATE ${month(0)} SET action = 'x'`)).rejects.toThrow(/append-only/);
  });

  it('creates upcoming partitions idempotently; rows outside them land in the default partition', async () => {
    const retention = new AuditChainRepository(gateway);
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
    const retention = new AuditChainRepository(gateway);
    // The legal minimum is the owner's: the gateway's login cannot purge inside it, nor lower it.
    await expect(retention.purge(71)).rejects.toThrow(/below the minimum of 72 months/);
    await expect(gateway.query(`UPDATE audit_retention_policy SET min_retain_months = 1`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(gateway.query(`DROP TABLE ${monthName(-2)}`)).rejects.toThrow(/must be owner/);
    await ds.query(`UPDATE audit_retention_policy SET min_retain_months = 1`);
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
    expect(await new AuditChainVerifier(new AuditChainRepository(ds)).verify()).toMatchObject({ valid: true });
    expect((await retention.purge(1)).partitions).toEqual([]);
  });
});
