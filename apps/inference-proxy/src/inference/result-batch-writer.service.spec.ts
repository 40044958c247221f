import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { batchInsert } from '@app/audit';
import { createDataSource, InferenceRepository, runMigrations } from '@app/database';
import { createTestDatabase, queryRows, type TestDatabase } from '../../../../test/support/postgres';
import { toStoredResult, type InferenceRecord } from './inference-record';
import { ResultBatchWriter } from './result-batch-writer.service';

/** The writer against the machine's Postgres with the real migrations. */
describe('ResultBatchWriter on Postgres', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase('proxy_writer');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 4 });
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  async function requestRow(): Promise<string> {
    const id = randomUUID();
    const invocation = randomUUID();
    await ds.query(
      `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, status, received_at)
       VALUES ($1, $2, 'patient-view', 's', $3, 'received', now())`,
      [invocation, randomUUID(), id],
    );
    await ds.query(
      `INSERT INTO inference_requests (request_id, hook_invocation_id, model, template_version, prompt_hash, priority,
         status, deadline_at, created_at)
       VALUES ($1, $2, 'm', 't', $3, 4, 'queued', now(), now())`,
      [id, invocation, 'a'.repeat(64)],
    );
    return id;
  }

  const record = (requestId: string): InferenceRecord => ({
    requestId,
    hookInstance: randomUUID(),
    model: 'm',
    templateVersion: 't',
    promptHash: 'a'.repeat(64),
    outcome: 'ok',
    status: 'completed',
    backend: 'vllm@x',
    servedFrom: 'backend',
    attempts: 1,
    outputText: '{}',
    errorCode: null,
    tokensIn: 3,
    tokensOut: 4,
    latencyMs: 12,
    completedAt: new Date(),
  });

  it('writes in batches, keeps every row through failed writes, and resolves only once a row is stored', async () => {
    const ids = await Promise.all(Array.from({ length: 25 }, () => requestRow()));
    const batches: number[] = [];
    let failuresLeft = 2;
    const writer = new ResultBatchWriter(
      { capacity: 100, batchSize: 10, flushMs: 20, concurrency: 2 },
      {
        store: async (batch, events) => {
          if (failuresLeft-- > 0) throw new Error('connection terminated');
          batches.push(batch.length);
          return new InferenceRepository(ds).storeResults(batch.map(toStoredResult), (n) => batchInsert(events, n));
        },
      },
    );
    const stored = await Promise.all(
      ids.map(async (id) => {
        const written = await writer.write(record(id));
        // Each write resolves with its own row as the database stored it.
        expect(written).toEqual((await new InferenceRepository(ds).resultsOf([id]))[0]);
        const rows = await queryRows(db.url, `SELECT 1 FROM inference_results WHERE request_id = $1`, [id]);
        return rows.length;
      }),
    );
    expect(stored).toEqual(Array(25).fill(1));
    expect(batches.reduce((s, n) => s + n, 0)).toBe(25);
    expect(batches.length).toBeLessThanOrEqual(5);
    const statuses = await queryRows<{ status: string; n: string }>(
      db.url,
      `SELECT status, count(*)::text AS n FROM inference_requests WHERE request_id = ANY($1) GROUP BY status`,
      [ids],
    );
    expect(statuses).toEqual([{ status: 'completed', n: '25' }]);
    const audits = await queryRows<{ n: string }>(
      db.url,
      `SELECT count(*)::text AS n FROM audit_events WHERE action = 'inference.completed' AND request_id = ANY($1)`,
      [ids],
    );
    expect(audits[0]!.n).toBe('25');
    expect(writer.backlog).toBe(0);
  });

  it('commits a result with its audit event or neither, and a retried batch stores each once', async () => {
    const id = await requestRow();
    const repo = new InferenceRepository(ds);
    let attempts = 0;
    let storedAfterRefusal = -1;
    const writer = new ResultBatchWriter(
      { capacity: 10, batchSize: 10, flushMs: 0, concurrency: 1 },
      {
        store: async (batch, events) => {
          attempts++;
          if (attempts === 1) {
            // The event part is refused by the database (not a uuid): the results must not be stored either.
            const refused = events.map((e) => ({ ...e, eventId: 'not-a-uuid' }));
            const error = await repo
              .storeResults(batch.map(toStoredResult), (n) => batchInsert(refused, n))
              .then(
                () => undefined,
                (e: unknown) => e,
              );
            expect(error).toBeInstanceOf(Error);
            storedAfterRefusal = (
              await queryRows(db.url, `SELECT 1 FROM inference_results WHERE request_id = ANY($1)`, [[id]])
            ).length;
            throw error;
          }
          const rows = await repo.storeResults(batch.map(toStoredResult), (n) => batchInsert(events, n));
          // Second attempt commits, then its acknowledgement is "lost": the third stores nothing twice.
          if (attempts === 2) throw new Error('connection terminated');
          return rows;
        },
      },
    );
    // The attempt that answered stored nothing (the lost one did): no row to hand on, listeners read the stored one.
    expect(await writer.write(record(id))).toBeUndefined();
    expect(attempts).toBe(3);
    expect(storedAfterRefusal).toBe(0);
    const results = await queryRows(db.url, `SELECT request_id FROM inference_results WHERE request_id = ANY($1)`, [
      [id],
    ]);
    expect(results).toHaveLength(1);
    const events = await queryRows(
      db.url,
      `SELECT request_id FROM audit_events WHERE action = 'inference.completed' AND request_id = ANY($1)`,
      [[id]],
    );
    expect(events).toHaveLength(1);
  });

  it('bounds the rows it holds: a writer beyond capacity waits for room', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => requestRow()));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let mostHeld = 0;
    const writer = new ResultBatchWriter(
      { capacity: 2, batchSize: 2, flushMs: 0, concurrency: 1 },
      {
        store: async (batch, events) => {
          mostHeld = Math.max(mostHeld, writer.backlog);
          await gate;
          return new InferenceRepository(ds).storeResults(batch.map(toStoredResult), (n) => batchInsert(events, n));
        },
      },
    );
    const writes = ids.map((id) => writer.write(record(id)));
    await new Promise((r) => setTimeout(r, 50));
    expect(writer.backlog).toBe(2);
    release();
    await Promise.all(writes);
    expect(mostHeld).toBeLessThanOrEqual(2);
    const rows = await queryRows(db.url, `SELECT 1 FROM inference_results WHERE request_id = ANY($1)`, [ids]);
    expect(rows).toHaveLength(6);
  });
});
