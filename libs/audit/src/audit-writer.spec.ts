import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { startAuditDatabase, type AuditTestDatabase } from '../../../test/support/audit-db';
import { AuditException, AuditExceptionCode } from './audit-exception';
import type { AuditRecord } from './audit-record';
import { auditSpoolDir } from './audit-spool';
import { AuditWriter } from './audit-writer';

/** A DataSource double that records INSERT statements and can fail the next ones. */
function fakeDataSource(opts: { failNext?: number; delayMs?: number; permanentFor?: string } = {}) {
  const statements: Array<{ rows: number; actions: unknown[]; eventIds: unknown[] }> = [];
  let failNext = opts.failNext ?? 0;
  const query = jest.fn(async (sql: string, params: unknown[]) => {
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (failNext > 0) {
      failNext--;
      throw Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });
    }
    const actions = params.filter((_, i) => i % 12 === 2);
    const eventIds = params.filter((_, i) => i % 12 === 0);
    if (opts.permanentFor && actions.includes(opts.permanentFor)) {
      throw Object.assign(new Error('invalid input syntax for type uuid'), { code: '22P02' });
    }
    statements.push({ rows: (sql.match(/\(\$/g) ?? []).length, actions, eventIds });
    return [];
  });
  return {
    ds: { query } as unknown as DataSource,
    statements,
    up: () => {
      failNext = 0;
    },
  };
}

const event = (i: number): AuditRecord => ({ action: `test.${i}`, outcome: 'success', service: 'gateway' });
const spoolRoot = (): string => mkdtempSync(path.join(tmpdir(), 'audit-spool-spec-'));
/** Each spread makes a fresh spool directory, so no test replays another's leftovers. */
const fast = {
  maxDelayMs: 5,
  retryBaseMs: 1,
  retryMaxMs: 5,
  closeTimeoutMs: 1000,
  maxWaitMs: 0,
  get spoolDir(): string {
    return spoolRoot();
  },
};
const spoolFiles = (root: string): string[] => readdirSync(path.join(root, 'default'));

describe('AuditWriter (group commit)', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('writes 500 concurrent events in a few multi-row INSERTs, each promise resolving after its commit', async () => {
    const { ds, statements } = fakeDataSource({ delayMs: 2 });
    const writer = new AuditWriter(ds, { ...fast, maxBatch: 64 });
    await Promise.all(Array.from({ length: 500 }, (_, i) => writer.record(event(i))));
    expect(statements.reduce((n, s) => n + s.rows, 0)).toBe(500);
    expect(statements.length).toBeLessThanOrEqual(Math.ceil(500 / 64) + 1);
    expect(Math.max(...statements.map((s) => s.rows))).toBe(64);
    expect(writer.stats).toMatchObject({ rows: 500, largestBatch: 64, failedAttempts: 0 });
    // Order of events is kept.
    expect(statements.flatMap((s) => s.actions)).toEqual(Array.from({ length: 500 }, (_, i) => `test.${i}`));
  });

  it('flushes a lone event after maxDelayMs', async () => {
    const { ds, statements } = fakeDataSource();
    const writer = new AuditWriter(ds, { ...fast, maxDelayMs: 20 });
    const t0 = Date.now();
    await writer.record(event(1));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    expect(statements).toHaveLength(1);
  });

  it('keeps a failed batch queued and retries it with backoff: nothing lost', async () => {
    const { ds, statements } = fakeDataSource({ failNext: 3 });
    const writer = new AuditWriter(ds, fast);
    await Promise.all(Array.from({ length: 10 }, (_, i) => writer.record(event(i))));
    expect(statements.flatMap((s) => s.actions)).toHaveLength(10);
    expect(writer.stats.failedAttempts).toBe(3);
  });

  it('without a spool, rejects a caller after maxWaitMs with AUDIT_WRITE_TIMEOUT, and still writes its event later', async () => {
    const { ds, statements } = fakeDataSource({ failNext: 8 });
    const writer = new AuditWriter(ds, { ...fast, retryBaseMs: 10, retryMaxMs: 10, maxWaitMs: 30, spoolDir: null });
    const t0 = Date.now();
    await expect(writer.record(event(1))).rejects.toMatchObject({ code: AuditExceptionCode.WRITE_TIMEOUT });
    expect(Date.now() - t0).toBeLessThan(200);
    await writer.close();
    expect(statements.flatMap((s) => s.actions)).toEqual(['test.1']);
  });

  it('rejects with AUDIT_QUEUE_FULL beyond the bound instead of growing', async () => {
    const { ds } = fakeDataSource({ delayMs: 30 });
    const writer = new AuditWriter(ds, { ...fast, maxQueue: 5, maxBatch: 64 });
    const accepted = Array.from({ length: 5 }, (_, i) => writer.record(event(i)));
    const refused = writer.record(event(99));
    await expect(refused).rejects.toBeInstanceOf(AuditException);
    await expect(refused).rejects.toMatchObject({ code: AuditExceptionCode.QUEUE_FULL });
    await Promise.all(accepted);
  });

  it('isolates a row the database refuses; the rest of its batch is written', async () => {
    const { ds, statements } = fakeDataSource({ permanentFor: 'test.bad' });
    const writer = new AuditWriter(ds, fast);
    const results = await Promise.allSettled([
      writer.record(event(1)),
      writer.record(event(2)),
      writer.record({ ...event(0), action: 'test.bad' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(statements.flatMap((s) => s.actions)).toEqual(['test.1', 'test.2']);
  });

  it('flushes on close and refuses events afterwards', async () => {
    const { ds, statements } = fakeDataSource();
    const writer = new AuditWriter(ds, { ...fast, maxDelayMs: 1000 });
    const pending = Array.from({ length: 3 }, (_, i) => writer.record(event(i)));
    await writer.close();
    await Promise.all(pending);
    expect(statements.flatMap((s) => s.actions)).toHaveLength(3);
    await expect(writer.record(event(4))).rejects.toMatchObject({ code: AuditExceptionCode.WRITER_CLOSED });
  });

  it('on close, rejects what cannot be written before the timeout', async () => {
    const { ds } = fakeDataSource({ failNext: 1_000_000 });
    const writer = new AuditWriter(ds, { ...fast, closeTimeoutMs: 50 });
    // Handled from the start: close() now also closes the spool file, so the rejection outlives a tick.
    const pending = writer.record(event(1)).then(
      () => 'written',
      (e: unknown) => e,
    );
    await writer.close();
    await expect(pending).resolves.toMatchObject({ code: AuditExceptionCode.FLUSH_TIMEOUT });
  });

  it('with a spool, releases a caller after maxWaitMs once its event is on disk, and writes it later', async () => {
    const root = spoolRoot();
    const { ds, statements } = fakeDataSource({ failNext: 8 });
    const writer = new AuditWriter(ds, { ...fast, retryBaseMs: 10, retryMaxMs: 10, maxWaitMs: 30, spoolDir: root });
    await expect(writer.record(event(1))).resolves.toBeUndefined();
    expect(statements).toHaveLength(0);
    expect(spoolFiles(root)).toHaveLength(1);
    await writer.close();
    expect(statements.flatMap((s) => s.actions)).toEqual(['test.1']);
    // Committed, so nothing is left to replay.
    expect(spoolFiles(root)).toEqual([]);
  });

  it('replays at start-up what an earlier writer left in the spool, with the same event ids', async () => {
    const root = spoolRoot();
    const down = fakeDataSource({ failNext: 1_000_000 });
    const first = new AuditWriter(down.ds, { ...fast, maxWaitMs: 20, closeTimeoutMs: 50, spoolDir: root });
    await Promise.all([first.record(event(1)), first.record(event(2))]);
    await first.close(); // the database never came back: both events only on disk
    expect(down.statements).toHaveLength(0);

    const { ds, statements } = fakeDataSource();
    const second = new AuditWriter(ds, { ...fast, spoolDir: root });
    await second.start();
    expect(second.stats.replayed).toBe(2);
    await second.record(event(3));
    await second.close();
    const written = statements.flatMap((s) => s.actions);
    expect(written).toEqual(['test.1', 'test.2', 'test.3']);
    expect(new Set(statements.flatMap((s) => s.eventIds)).size).toBe(3);
    expect(spoolFiles(root)).toEqual([]);
  });

  it('keeps a caller-given event id (a deterministic id makes a repeated event one row)', async () => {
    const { ds, statements } = fakeDataSource();
    const writer = new AuditWriter(ds, fast);
    const eventId = '6f1c1c53-8b0c-5d4e-9a7f-0c8f1f1b2a3c';
    await writer.record({ ...event(1), eventId });
    await writer.close();
    expect(statements[0]!.eventIds).toEqual([eventId]);
  });

  it('answers AUDIT_QUEUE_FULL when the spool is at its byte bound; accepted events are still written', async () => {
    const { ds, statements, up } = fakeDataSource({ failNext: 1_000_000 });
    const writer = new AuditWriter(ds, { ...fast, maxWaitMs: 10, spoolMaxBytes: 65_536, retryMaxMs: 5 });
    const big = { ...event(0), detail: { pad: 'x'.repeat(8_000) } };
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, () => writer.record(big)));
    const accepted = outcomes.filter((o) => o.status === 'fulfilled').length;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(12);
    for (const o of outcomes) {
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: AuditExceptionCode.QUEUE_FULL });
    }
    up();
    await writer.close();
    expect(statements.reduce((n, s) => n + s.rows, 0)).toBe(accepted);
  });

  it('gives refusals a share of the queue: a flood of them is refused while other events still get in', async () => {
    const { ds, statements } = fakeDataSource({ delayMs: 40 });
    const writer = new AuditWriter(ds, { ...fast, maxQueue: 10, refusedShare: 0.5, maxBatch: 1 });
    const refusal = { ...event(0), action: 'hook.refused', outcome: 'refused' as const };
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 8 }, () => writer.record(refusal)),
      ...Array.from({ length: 4 }, (_, i) => writer.record(event(i))),
    ]);
    const refusals = outcomes.slice(0, 8);
    const others = outcomes.slice(8);
    expect(refusals.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    for (const o of refusals) {
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: AuditExceptionCode.QUEUE_FULL });
    }
    expect(others.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    await writer.close();
    const written = statements.flatMap((s) => s.actions);
    expect(written.filter((a) => a !== 'hook.refused')).toEqual(['test.0', 'test.1', 'test.2', 'test.3']);
  });

  it('admits a group all or none: one that does not fit is refused whole, nothing of it queued', async () => {
    const { ds, statements } = fakeDataSource({ delayMs: 30 });
    const writer = new AuditWriter(ds, { ...fast, maxQueue: 3, maxBatch: 64 });
    const first = await writer.admit([event(1), event(2)]);
    await expect(writer.admit([event(3), event(4)])).rejects.toMatchObject({ code: AuditExceptionCode.QUEUE_FULL });
    expect(writer.queued).toBe(2);
    await first.durable;
    await writer.close();
    expect(statements.flatMap((s) => s.actions)).toEqual(['test.1', 'test.2']);
  });

  it('resolves admit() before the commit, and `durable` only once every event of the group committed, in order', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const statements: unknown[][] = [];
    const ds = {
      query: jest.fn(async (_sql: string, params: unknown[]) => {
        await held;
        statements.push(params.filter((_, i) => i % 12 === 2));
        return [];
      }),
    } as unknown as DataSource;
    const writer = new AuditWriter(ds, fast);
    const { durable } = await writer.admit([event(1), event(2)]);
    let done = false;
    void durable.then(() => (done = true));
    for (let i = 0; i < 5; i++) await new Promise(setImmediate);
    expect(done).toBe(false);
    release();
    await durable;
    // One statement, in the order given.
    expect(statements).toEqual([['test.1', 'test.2']]);
    await writer.close();
  });

  it('keys the spool by database name, not address: after a failover to a new primary the spool is found', () => {
    const at = (url: string) => auditSpoolDir('/spool', { options: { url } } as unknown as DataSource);
    expect(at('postgres://app@db-a:5432/meditron')).toBe(at('postgres://app@db-b.example:6432/meditron'));
    expect(at('postgres://app@db-a:5432/meditron')).not.toBe(at('postgres://app@db-a:5432/other'));
  });
});

/**
 * Lingering admissions (the hook path's `hook.invoked`) against the real trail: chain trigger, event-id dedup, jsonb
 * checks. `stats.batches` counts the INSERT statements that committed.
 */
describe('AuditWriter (lingering events, real Postgres)', () => {
  let t: AuditTestDatabase;
  let n = 0;
  beforeAll(async () => {
    Logger.overrideLogger(false);
    t = await startAuditDatabase('audit_linger');
  });
  afterAll(async () => t?.stop());

  /** A fresh tag per test: the events of a test are those with its request id. */
  const tag = (): string => `linger-${++n}`;
  const ev = (requestId: string, action: string, detail: AuditRecord['detail'] = {}): AuditRecord => ({
    action,
    outcome: 'success',
    service: 'cds-hooks',
    requestId,
    detail,
  });
  const stored = async (requestId: string): Promise<string[]> =>
    (
      (await t.ds.query(`SELECT action FROM audit_events WHERE request_id = $1 ORDER BY id`, [requestId])) as Array<{
        action: string;
      }>
    ).map((r) => r.action);
  const writerOn = (opts: Partial<ConstructorParameters<typeof AuditWriter>[1]>, ds: DataSource = t.ds) =>
    new AuditWriter(ds, { ...fast, maxDelayMs: 0, lingerMs: 60_000, ...opts });

  it('writes a lingering event in the INSERT the next event starts, ahead of it', async () => {
    const writer = writerOn({});
    const call = tag();
    const invoked = await writer.admit([ev(call, 'hook.invoked')], { linger: true });
    const answered = await writer.admit([ev(call, 'hook.answered')], { after: invoked });
    await Promise.all([answered.durable, invoked.durable]);
    expect(writer.stats).toMatchObject({ batches: 1, rows: 2 });
    expect(await stored(call)).toEqual(['hook.invoked', 'hook.answered']);
    // Any event's write takes it along, not only one admitted after it.
    const next = tag();
    const lingering = await writer.admit([ev(next, 'hook.invoked')], { linger: true });
    await writer.record(ev(next, 'fhir.read'));
    await lingering.durable;
    expect(writer.stats).toMatchObject({ batches: 2, rows: 4 });
    expect(await stored(next)).toEqual(['hook.invoked', 'fhir.read']);
    await writer.close();
  });

  it('writes a lingering event alone when no other event comes before its linger ends', async () => {
    const writer = writerOn({ lingerMs: 5 });
    const call = tag();
    const invoked = await writer.admit([ev(call, 'hook.invoked')], { linger: true });
    await invoked.durable;
    expect(writer.stats).toMatchObject({ batches: 1, rows: 1 });
    expect(await stored(call)).toEqual(['hook.invoked']);
    // What follows later is a write of its own, after it.
    await (
      await writer.admit([ev(call, 'hook.answered')], { after: invoked })
    ).durable;
    expect(writer.stats.batches).toBe(2);
    expect(await stored(call)).toEqual(['hook.invoked', 'hook.answered']);
    await writer.close();
  });

  it('flush() ends the linger: the event is written now, alone', async () => {
    const writer = writerOn({});
    const call = tag();
    const invoked = await writer.admit([ev(call, 'hook.invoked')], { linger: true });
    expect(writer.stats.batches).toBe(0);
    await writer.flush(invoked);
    expect(writer.stats).toMatchObject({ batches: 1, rows: 1 });
    expect(await stored(call)).toEqual(['hook.invoked']);
    await writer.close();
  });

  it('has a lingering event on disk at once: a crash before its INSERT leaves it to the next start-up', async () => {
    const root = spoolRoot();
    const writer = writerOn({ spoolDir: root });
    const call = tag();
    await writer.admit([ev(call, 'hook.invoked')], { linger: true });
    // The spool write runs alongside the admission; wait until the line is on disk.
    const dir = path.join(root, auditSpoolDir('', t.ds));
    const segment = (): string | undefined =>
      readdirSync(dir).find((f) => readFileSync(path.join(dir, f), 'utf8').includes(call));
    while (!segment()) await new Promise((r) => setTimeout(r, 5));
    expect(await stored(call)).toEqual([]);
    // The crash: the spool as the dead process left it, under an owner no live spool has.
    const crashed = spoolRoot();
    const crashedDir = path.join(crashed, auditSpoolDir('', t.ds));
    mkdirSync(crashedDir, { recursive: true });
    const name = segment()!.replace(/^(\d+-\d+-)[0-9a-f]+-/, '$1dead00-');
    copyFileSync(path.join(dir, segment()!), path.join(crashedDir, name));

    const next = writerOn({ spoolDir: crashed });
    await next.start();
    expect(next.stats.replayed).toBe(1);
    await next.close();
    expect(await stored(call)).toEqual(['hook.invoked']);
    // The first process, had it lived, would write it again: stored once (event ids are deduplicated).
    await writer.close();
    expect(await stored(call)).toEqual(['hook.invoked']);
  });

  it('counts lingering events against the queue bound: a group that does not fit is refused whole, they stay', async () => {
    const writer = writerOn({ maxQueue: 2 });
    const call = tag();
    const first = await writer.admit([ev(call, 'hook.invoked')], { linger: true });
    await writer.admit([ev(call, 'hook.invoked')], { linger: true });
    await expect(writer.admit([ev(call, 'hook.answered')], { after: first })).rejects.toMatchObject({
      code: AuditExceptionCode.QUEUE_FULL,
    });
    // The refusal started no write; the lingering events are still held, and written at close.
    expect(writer.queued).toBe(2);
    expect(writer.stats.batches).toBe(0);
    await writer.close();
    expect(await stored(call)).toEqual(['hook.invoked', 'hook.invoked']);
  });

  it('refuses, unwritten, the events admitted after a group the database refused; the rest of the batch is written', async () => {
    const writer = writerOn({});
    const call = tag();
    const other = tag();
    // jsonb has no NUL character: a data error (22P05), so this row alone is refused.
    const invoked = await writer.admit([ev(call, 'hook.invoked', { templateVersion: 'v\u0000' })], { linger: true });
    const unrelated = await writer.admit([ev(other, 'fhir.read')], { linger: true });
    // One batch of three: the INSERT fails, its rows are tried one by one.
    const answered = await writer.admit([ev(call, 'hook.answered')], { after: invoked });
    await expect(answered.durable).rejects.toMatchObject({ code: '22P05' });
    await expect(invoked.durable).rejects.toMatchObject({ code: '22P05' });
    await unrelated.durable;
    expect(writer.stats.rows).toBe(1);
    expect(await stored(call)).toEqual([]);
    expect(await stored(other)).toEqual(['fhir.read']);
    // Once refused, a group admitted after it is refused at once.
    await expect(writer.admit([ev(call, 'hook.answered')], { after: invoked })).rejects.toMatchObject({
      code: '22P05',
    });
    await writer.close();
  });
});
