import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AuditChainRepository, RUNTIME_ROLES } from '@app/database';
import { allMigrations } from '../../database/src/migrations';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres';
import { batchInsert, queuedAuditRow, type QueuedAuditRow } from './audit-batch-insert';
import { AuditChainVerifier } from './audit-chain.verifier';
import { AuditInboxDrainer } from './audit-inbox.drainer';

/**
 * Migration 1764560000000 (issue 17): a business transaction writes its audit events into the unchained inbox and
 * never takes the chain's lock; the proxy's drainer chains them. What must hold: nothing in the inbox is lost or
 * stored twice, the chain stays one valid chain, inbox events are chained in inbox order, a transaction writing the
 * inbox is not held off by the chain (nor holds it), and only the proxy's role can append to the inbox and drain it.
 */
describe('audit inbox (migration 1764560000000)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const clients: Client[] = [];
  let n = 0;

  const open = async (): Promise<Client> => {
    const c = new Client({ connectionString: db.url, application_name: 'audit-inbox-spec' });
    await c.connect();
    clients.push(c);
    return c;
  };
  const row = (action: string): QueuedAuditRow =>
    queuedAuditRow({ action, outcome: 'success', service: 'inference-proxy', detail: { n: n++ } });
  const run = async (c: Client | DataSource, q: { sql: string; params: unknown[] }): Promise<void> => {
    await (c instanceof DataSource ? c.query(q.sql, q.params) : c.query(q.sql, q.params));
  };
  const chained = async (eventIds: string[]): Promise<Array<{ id: string; event_id: string; action: string }>> =>
    ds.query(
      `SELECT id::text AS id, event_id::text AS event_id, action FROM audit_events WHERE event_id = ANY($1::uuid[]) ORDER BY id`,
      [eventIds],
    );
  const inboxSize = async (): Promise<number> =>
    Number(((await ds.query(`SELECT count(*) AS c FROM audit_inbox`)) as [{ c: string }])[0].c);
  const drain = async (max = 1000): Promise<number> =>
    ((await ds.query(`SELECT audit_inbox_drain($1) AS moved`, [max])) as [{ moved: number }])[0].moved;
  const valid = async (): Promise<void> => {
    const v = await new AuditChainVerifier(new AuditChainRepository(ds)).verify();
    expect(v.firstBreak).toBeNull();
    expect(v.valid).toBe(true);
  };

  beforeAll(async () => {
    db = await createTestDatabase('audit_inbox');
    ds = new DataSource({ type: 'postgres', url: db.url, migrations: allMigrations, logging: false });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await ds?.destroy();
    await db?.drop();
  });

  it('chains inbox events in inbox order, after what was chained before, and empties the inbox', async () => {
    const before = row('hook.invoked');
    await run(ds, batchInsert([before]));
    const inbox = [row('inference.completed'), row('inference.completed'), row('inference.completed')];
    await run(ds, batchInsert(inbox.slice(0, 2), 0, 'audit_inbox'));
    await run(ds, batchInsert(inbox.slice(2), 0, 'audit_inbox'));
    expect(await chained(inbox.map((r) => r.eventId))).toEqual([]);

    expect(await drain()).toBe(3);
    const ids = [before, ...inbox].map((r) => r.eventId);
    expect((await chained(ids)).map((r) => r.event_id)).toEqual(ids);
    expect(await inboxSize()).toBe(0);
    expect(await drain()).toBe(0);
    await valid();
  });

  it('drains at most max_rows per call, oldest first', async () => {
    const inbox = Array.from({ length: 5 }, () => row('inference.completed'));
    for (const r of inbox) await run(ds, batchInsert([r], 0, 'audit_inbox'));
    expect(await drain(2)).toBe(2);
    expect((await chained(inbox.map((r) => r.eventId))).map((r) => r.event_id)).toEqual(
      inbox.slice(0, 2).map((r) => r.eventId),
    );
    expect(await drain(1000)).toBe(3);
    expect(await drain(1000)).toBe(0);
    expect(await inboxSize()).toBe(0);
  });

  it('stores an event once that reaches the inbox again after it was chained (a redelivered result)', async () => {
    const event = row('inference.completed');
    await run(ds, batchInsert([event], 0, 'audit_inbox'));
    await drain();
    await run(ds, batchInsert([event], 0, 'audit_inbox'));
    await run(ds, batchInsert([event], 0, 'audit_inbox'));
    expect(await drain()).toBe(2);
    expect(await chained([event.eventId])).toHaveLength(1);
    await valid();
  });

  it('lets a result store write while the chain is held, and never holds the chain itself', async () => {
    // The chain held as an audit batch holds it mid-write: the head row locked.
    const blocker = await open();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM audit_chain_head WHERE singleton FOR UPDATE');
    const store = await open();
    await store.query('SET statement_timeout = 5000');
    const event = row('inference.completed');
    await run(store, batchInsert([event], 0, 'audit_inbox')); // would time out on the chain's lock
    await blocker.query('ROLLBACK');

    // A result store's transaction left open holds no chain lock: an audit batch and a drain commit meanwhile.
    await store.query('BEGIN');
    const pending = row('inference.completed');
    await run(store, batchInsert([pending], 0, 'audit_inbox'));
    const writer = await open();
    await writer.query('SET statement_timeout = 5000');
    const batch = row('hook.answered');
    await run(writer, batchInsert([batch]));
    expect(await drain()).toBe(1);
    expect((await chained([event.eventId, pending.eventId, batch.eventId])).map((r) => r.event_id)).toEqual([
      batch.eventId,
      event.eventId,
    ]);
    await store.query('COMMIT');
    expect(await drain()).toBe(1);
    expect((await chained([pending.eventId])).map((r) => r.event_id)).toEqual([pending.eventId]);
    await valid();
  });

  it('keeps an event the chain refuses in the inbox, reports it, and chains it once the chain takes it', async () => {
    const registry = new Registry();
    const drainer = new AuditInboxDrainer(ds, { intervalMs: 60_000, maxRows: 256, registry });
    const poison = row('test.poison');
    const next = row('inference.completed');
    await run(ds, batchInsert([poison, next], 0, 'audit_inbox'));
    await ds.query(`ALTER TABLE audit_events ADD CONSTRAINT spec_no_poison CHECK (action <> 'test.poison')`);
    try {
      expect(await drain()).toBe(-1);
      expect(await drainer.drain()).toBe(0);
      expect(await inboxSize()).toBe(2);
      expect(await chained([poison.eventId, next.eventId])).toEqual([]);
      expect((await registry.getSingleMetric('meditron_audit_inbox_refused_total')?.get())?.values[0]?.value).toBe(1);
    } finally {
      await ds.query(`ALTER TABLE audit_events DROP CONSTRAINT spec_no_poison`);
    }
    expect(await drainer.drain()).toBe(2);
    expect((await chained([poison.eventId, next.eventId])).map((r) => r.event_id)).toEqual([
      poison.eventId,
      next.eventId,
    ]);
    expect(await inboxSize()).toBe(0);
    await valid();
  });

  it("drains on the drainer's period, in rounds of maxRows, and counts what it chained", async () => {
    const registry = new Registry();
    const drainer = new AuditInboxDrainer(ds, { intervalMs: 20, maxRows: 3, registry });
    const inbox = Array.from({ length: 7 }, () => row('inference.completed'));
    await run(ds, batchInsert(inbox, 0, 'audit_inbox'));
    drainer.onModuleInit();
    try {
      const deadline = Date.now() + 5000;
      while ((await inboxSize()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await drainer.beforeApplicationShutdown();
    }
    expect(await inboxSize()).toBe(0);
    expect((await chained(inbox.map((r) => r.eventId))).map((r) => r.event_id)).toEqual(inbox.map((r) => r.eventId));
    expect((await registry.getSingleMetric('meditron_audit_inbox_drained_total')?.get())?.values[0]?.value).toBe(7);
  });

  it('logs a failing drain when it starts failing and when it drains again, not every round', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const drainer = new AuditInboxDrainer(ds, { intervalMs: 10, maxRows: 256, registry: new Registry() });
    const event = row('inference.completed');
    await run(ds, batchInsert([event], 0, 'audit_inbox'));
    await ds.query(`ALTER FUNCTION audit_inbox_drain(int) RENAME TO audit_inbox_drain_away`);
    try {
      drainer.onModuleInit();
      await new Promise((r) => setTimeout(r, 300)); // many rounds, all failing
      expect(warn.mock.calls.filter(([m]) => String(m).startsWith('audit inbox drain failed'))).toHaveLength(1);
    } finally {
      await ds.query(`ALTER FUNCTION audit_inbox_drain_away(int) RENAME TO audit_inbox_drain`);
    }
    const deadline = Date.now() + 5000;
    while ((await inboxSize()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await drainer.beforeApplicationShutdown();
    expect(await chained([event.eventId])).toHaveLength(1);
    expect(log.mock.calls.filter(([m]) => m === 'audit inbox drains again')).toHaveLength(1);
    warn.mockRestore();
    log.mockRestore();
  });

  it('is appended to and drained by the inference proxy only, and read, changed or emptied by no runtime role', async () => {
    const c = await open();
    const as = async (role: string, sql: string, params: unknown[] = []): Promise<string> => {
      await c.query(`SET ROLE ${role}`);
      try {
        await c.query(sql, params);
        return 'ok';
      } catch (e) {
        return (e as { code?: string }).code ?? 'error';
      } finally {
        await c.query('RESET ROLE');
      }
    };
    const { sql, params } = batchInsert([row('inference.completed')], 0, 'audit_inbox');
    expect(await as(RUNTIME_ROLES.inferenceProxy, sql, params)).toBe('ok');
    for (const role of [RUNTIME_ROLES.gateway, RUNTIME_ROLES.cdsHooks]) {
      expect(await as(role, sql, params)).toBe('42501');
      expect(await as(role, 'SELECT audit_inbox_drain(10)')).toBe('42501');
    }
    for (const role of Object.values(RUNTIME_ROLES)) {
      expect(await as(role, 'SELECT * FROM audit_inbox')).toBe('42501');
      expect(await as(role, `UPDATE audit_inbox SET action = 'x'`)).toBe('42501');
      expect(await as(role, 'DELETE FROM audit_inbox')).toBe('42501');
      expect(await as(role, 'TRUNCATE audit_inbox')).toBe('42501');
    }
    expect(await inboxSize()).toBe(1);
    expect(await as(RUNTIME_ROLES.inferenceProxy, 'SELECT audit_inbox_drain(10)')).toBe('ok');
    expect(await inboxSize()).toBe(0);
  });
});

describe('audit inbox migration down', () => {
  it('chains what the inbox still holds before it drops it', async () => {
    const db = await createTestDatabase('audit_inbox_down');
    const ds = new DataSource({ type: 'postgres', url: db.url, migrations: allMigrations, logging: false });
    try {
      await ds.initialize();
      await ds.runMigrations({ transaction: 'each' });
      const event = queuedAuditRow({ action: 'inference.completed', outcome: 'success', service: 'inference-proxy' });
      const { sql, params } = batchInsert([event], 0, 'audit_inbox');
      await ds.query(sql, params);
      while (
        ((await ds.query(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`)) as [{ name: string }])[0].name !==
        'AuditInbox1764560000000'
      ) {
        await ds.undoLastMigration({ transaction: 'each' });
      }
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await ds.query(`SELECT to_regclass('audit_inbox') AS t`)).toEqual([{ t: null }]);
      expect(
        await ds.query(`SELECT count(*)::int AS c FROM audit_events WHERE event_id = $1`, [event.eventId]),
      ).toEqual([{ c: 1 }]);
    } finally {
      await ds.destroy().catch(() => undefined);
      await db.drop();
    }
  }, 60_000);
});
