import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AuditException, AuditExceptionCode } from './audit-exception';
import type { AuditRecord } from './audit-record';
import { AuditWriter } from './audit-writer';

/** A DataSource double that records INSERT statements and can fail the next ones. */
function fakeDataSource(opts: { failNext?: number; delayMs?: number; permanentFor?: string } = {}) {
  const statements: Array<{ rows: number; actions: unknown[] }> = [];
  let failNext = opts.failNext ?? 0;
  const query = jest.fn(async (sql: string, params: unknown[]) => {
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (failNext > 0) {
      failNext--;
      throw Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });
    }
    const actions = params.filter((_, i) => i % 11 === 1);
    if (opts.permanentFor && actions.includes(opts.permanentFor)) {
      throw Object.assign(new Error('invalid input syntax for type uuid'), { code: '22P02' });
    }
    statements.push({ rows: (sql.match(/\(\$/g) ?? []).length, actions });
    return [];
  });
  return { ds: { query } as unknown as DataSource, statements };
}

const event = (i: number): AuditRecord => ({ action: `test.${i}`, outcome: 'success', service: 'gateway' });
const fast = { maxDelayMs: 5, retryBaseMs: 1, retryMaxMs: 5, closeTimeoutMs: 1000, maxWaitMs: 0 };

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

  it('releases a caller after maxWaitMs while the database is down, and still writes its event later', async () => {
    const { ds, statements } = fakeDataSource({ failNext: 8 });
    const writer = new AuditWriter(ds, { ...fast, retryBaseMs: 10, retryMaxMs: 10, maxWaitMs: 30 });
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
    const pending = writer.record(event(1));
    await writer.close();
    await expect(pending).rejects.toMatchObject({ code: AuditExceptionCode.FLUSH_TIMEOUT });
  });
});
