import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AuditChainRepository, RUNTIME_ROLES } from '@app/database';
import { allMigrations } from '../../database/src/migrations';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres';
import { batchInsert, queuedAuditRow, type QueuedAuditRow } from './audit-batch-insert';
import { AuditChainVerifier } from './audit-chain.verifier';

/**
 * Migration 1764560000000 (issue 17): the chain head is the newest row of `audit_chain_tail`, inserted per event, and
 * the `audit_chain_head` row is only locked. What must hold: no event writes a new version of the head row (so a
 * snapshot held open elsewhere leaves nothing for later writers to step over), the published head is the last event,
 * the tail stays bounded, and the chain verifies in Node.
 */
describe('audit chain tail (migration 1764560000000)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const clients: Client[] = [];
  let n = 0;

  const open = async (): Promise<Client> => {
    const c = new Client({ connectionString: db.url, application_name: 'chain-tail-spec' });
    await c.connect();
    clients.push(c);
    return c;
  };
  const row = (): QueuedAuditRow =>
    queuedAuditRow({ action: 'test.tail', outcome: 'success', service: 'gateway', detail: { n: n++ } });
  const write = async (c: Client | DataSource, rows: number, perStatement = 4): Promise<void> => {
    for (let i = 0; i < rows; i += perStatement) {
      const { sql, params } = batchInsert(Array.from({ length: Math.min(perStatement, rows - i) }, row));
      await (c instanceof DataSource ? c.query(sql, params) : c.query(sql, params));
    }
  };
  const headRowVersion = async (): Promise<string> =>
    ((await ds.query(`SELECT ctid::text AS v FROM audit_chain_head WHERE singleton`)) as [{ v: string }])[0].v;

  beforeAll(async () => {
    db = await createTestDatabase('audit_chain_tail');
    ds = new DataSource({ type: 'postgres', url: db.url, migrations: allMigrations, logging: false });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await ds?.destroy();
    await db?.drop();
  });

  it('publishes genesis as an empty chain, then the last event as the head', async () => {
    const repo = new AuditChainRepository(ds);
    const genesis = await repo.head();
    expect(genesis.lastId).toBeNull();
    expect(genesis.lastHash).toBe((await repo.anchor()).hash);
    await write(ds, 3, 3);
    const [last] = (await ds.query(`SELECT id::text AS id, hash FROM audit_events ORDER BY id DESC LIMIT 1`)) as Array<{
      id: string;
      hash: string;
    }>;
    expect(await repo.head()).toMatchObject({ lastId: last!.id, lastHash: last!.hash });
  });

  it('writes no new version of the head row, also while another transaction holds its snapshot open', async () => {
    const holder = await open();
    await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await holder.query('SELECT count(*) FROM audit_events');
    const before = await headRowVersion();
    const writers = await Promise.all([open(), open(), open()]);
    await Promise.all(writers.map((w) => write(w, 200, 2)));
    expect(await headRowVersion()).toBe(before);
    await holder.query('COMMIT');
    const v = await new AuditChainVerifier(new AuditChainRepository(ds)).verify();
    expect(v.firstBreak).toBeNull();
    expect(v.valid).toBe(true);
  });

  it('keeps the tail bounded: older rows are trimmed as ids pass multiples of 1024', async () => {
    await write(ds, 2200, 50);
    const [{ rows, newest }] = (await ds.query(
      `SELECT count(*)::int AS rows, max(id)::text AS newest FROM audit_chain_tail`,
    )) as [{ rows: number; newest: string }];
    expect(rows).toBeLessThanOrEqual(2 * 1024);
    const [{ last }] = (await ds.query(`SELECT max(id)::text AS last FROM audit_events`)) as [{ last: string }];
    expect(newest).toBe(last);
    expect((await new AuditChainVerifier(new AuditChainRepository(ds)).verify()).valid).toBe(true);
  });

  it('lets runtime roles read the tail and nothing else', async () => {
    const c = await open();
    const as = async (role: string, sql: string): Promise<string> => {
      await c.query(`SET ROLE ${role}`);
      try {
        await c.query(sql);
        return 'ok';
      } catch (e) {
        return (e as { code?: string }).code ?? 'error';
      } finally {
        await c.query('RESET ROLE');
      }
    };
    for (const role of Object.values(RUNTIME_ROLES)) {
      expect(await as(role, 'SELECT id, hash FROM audit_chain_tail ORDER BY id DESC LIMIT 1')).toBe('ok');
      expect(await as(role, `UPDATE audit_chain_tail SET hash = repeat('0', 64)`)).toBe('42501');
      expect(await as(role, `INSERT INTO audit_chain_tail (id, hash, at) VALUES (1e12, repeat('0', 64), now())`)).toBe(
        '42501',
      );
      expect(await as(role, 'DELETE FROM audit_chain_tail')).toBe('42501');
    }
  });
});
