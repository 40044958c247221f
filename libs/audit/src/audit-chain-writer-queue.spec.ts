import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AuditChainRepository } from '@app/database';
import { allMigrations } from '../../database/src/migrations';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres';
import { batchInsert, queuedAuditRow, type QueuedAuditRow } from './audit-batch-insert';
import { AuditChainVerifier } from './audit-chain.verifier';

/**
 * Migration 1764540000000: audit writers queue on an advisory lock before the chain head's row lock (issue 17). What
 * must not change: concurrent writers still form one valid chain (verified in Node, not by the database's function),
 * an event id is still stored once even when two writers race with it, and a session holding the head row still holds
 * every writer off (all checked on the chain as migrated today: the later tail trigger, 1764560000000, keeps each).
 * The migration's down restores the previous trigger exactly.
 */
/** Where this migration is in the list: the ones before it, and it. */
const AT = allMigrations.findIndex((m) => m.name === 'AuditChainWriterQueue1764540000000');
const THROUGH = allMigrations.slice(0, AT + 1);

describe('audit chain writer queue (migration 1764540000000)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const clients: Client[] = [];

  const open = async (): Promise<Client> => {
    const c = new Client({ connectionString: db.url, application_name: 'chain-queue-spec' });
    await c.connect();
    clients.push(c);
    return c;
  };
  const row = (i: number): QueuedAuditRow =>
    queuedAuditRow({ action: `test.queue.${i}`, outcome: 'success', service: 'gateway', detail: { i } });
  const insert = async (c: Client, rows: QueuedAuditRow[]): Promise<void> => {
    const { sql, params } = batchInsert(rows);
    await c.query(sql, params);
  };
  const chainFunction = async (d: DataSource): Promise<string> =>
    ((await d.query(`SELECT pg_get_functiondef('audit_events_chain'::regproc) AS def`)) as [{ def: string }])[0].def;
  const count = async (): Promise<number> =>
    Number(((await ds.query(`SELECT count(*) AS c FROM audit_events`)) as [{ c: string }])[0].c);

  beforeAll(async () => {
    db = await createTestDatabase('audit_chain_queue');
    ds = new DataSource({ type: 'postgres', url: db.url, migrations: allMigrations, logging: false });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await ds?.destroy();
    await db?.drop();
  });

  it('chains the rows of eight concurrent writers into one valid chain', async () => {
    const before = await count();
    const writers = await Promise.all(Array.from({ length: 8 }, () => open()));
    await Promise.all(
      writers.map(async (c, w) => {
        for (let i = 0; i < 25; i++)
          await insert(c, i % 5 === 0 ? [row(w * 100 + i), row(w * 100 + i + 50)] : [row(w * 100 + i)]);
      }),
    );
    expect((await count()) - before).toBe(8 * 30);
    const verified = await new AuditChainVerifier(new AuditChainRepository(ds)).verify();
    expect(verified.firstBreak).toBeNull();
    expect(verified.valid).toBe(true);
    expect(verified.rowsChecked).toBe(await count());
  });

  it('stores an event once when two writers race with the same event id', async () => {
    const [a, b] = [await open(), await open()];
    for (let i = 0; i < 20; i++) {
      const event = row(1000 + i);
      await Promise.all([insert(a, [event]), insert(b, [event])]);
      const stored = (await ds.query(`SELECT count(*) AS c FROM audit_events WHERE event_id = $1`, [
        event.eventId,
      ])) as [{ c: string }];
      expect(Number(stored[0].c)).toBe(1);
    }
    expect((await new AuditChainVerifier(new AuditChainRepository(ds)).verify()).valid).toBe(true);
  });

  it('still holds every writer off while a session holds the chain head row', async () => {
    const blocker = await open();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM audit_chain_head WHERE singleton FOR UPDATE');
    const [first, second] = [await open(), await open()];
    const pids = await Promise.all(
      [first, second].map(async (c) => ((await c.query('SELECT pg_backend_pid() AS p')).rows[0] as { p: number }).p),
    );
    const before = await count();
    const writes = [insert(first, [row(2000)]), insert(second, [row(2001)])];
    // Both wait: one on the head row (after taking the queue lock), the other in the queue.
    let waiting: Array<{ pid: number; wait_event: string }> = [];
    while (waiting.length < 2) {
      waiting = (await ds.query(
        `SELECT pid, wait_event FROM pg_stat_activity WHERE pid = ANY($1) AND wait_event_type = 'Lock' ORDER BY pid`,
        [pids],
      )) as typeof waiting;
    }
    expect(waiting.map((w) => w.wait_event).sort()).toEqual(['advisory', 'transactionid']);
    expect(await count()).toBe(before);
    await blocker.query('ROLLBACK');
    await Promise.all(writes);
    expect((await count()) - before).toBe(2);
    expect((await new AuditChainVerifier(new AuditChainRepository(ds)).verify()).valid).toBe(true);
  });

  it('down restores the previous trigger exactly, up queues again', async () => {
    const previous = await createTestDatabase('audit_chain_queue_prev');
    const prev = new DataSource({
      type: 'postgres',
      url: previous.url,
      migrations: THROUGH.slice(0, -1),
      logging: false,
    });
    try {
      await prev.initialize();
      await prev.runMigrations({ transaction: 'each' });
      const current = await chainFunction(ds);
      // Back to this migration (the later ones undone), then through its own down.
      const last = async (): Promise<string> =>
        ((await ds.query(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`)) as [{ name: string }])[0].name;
      while ((await last()) !== THROUGH[AT]!.name) await ds.undoLastMigration({ transaction: 'each' });
      const queued = await chainFunction(ds);
      expect(queued).toContain('pg_advisory_xact_lock(');
      expect(queued).toContain('SECURITY DEFINER');

      await ds.undoLastMigration({ transaction: 'each' });
      expect(await chainFunction(ds)).toBe(await chainFunction(prev));
      await insert(await open(), [row(3000)]);

      await ds.runMigrations({ transaction: 'each' });
      expect(await chainFunction(ds)).toBe(current);
      await insert(await open(), [row(3001)]);
      expect((await new AuditChainVerifier(new AuditChainRepository(ds)).verify()).valid).toBe(true);
    } finally {
      await prev.destroy();
      await previous.drop();
    }
  }, 60_000);
});
