import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestDatabase, queryRows, type TestDatabase } from '../../../../test/support/postgres';
import { createDataSource, runMigrations } from '../data-source';
import { InferenceResultEntity } from '../entities/inference-result.entity';
import { HookInvocationRepository } from './hook-invocation.repository';
import { InferenceOutboxRepository } from './inference-outbox.repository';
import { InferenceRepository, RESULT_COLUMNS, type StoredResult } from './inference.repository';

/** The result batch's hand-written INSERT (storeResults) against the entity it stores and a real Postgres. */
describe('storeResults: the result batch as plain SQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let inferences: InferenceRepository;
  const until = () => Date.now() + 2000;

  beforeAll(async () => {
    db = await createTestDatabase('result_insert');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    inferences = new InferenceRepository(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  /** A stored request (results reference it), as cds-hooks writes it. */
  async function openRequest(): Promise<string> {
    const invocationId = randomUUID();
    await new HookInvocationRepository(ds).received(
      {
        id: invocationId,
        hookInstance: randomUUID(),
        hook: 'patient-view',
        serviceId: 'meditron-patient-view',
        requestId: randomUUID(),
        clientId: 'ehr-1',
        patientRef: 'Patient/p1',
        receivedAt: new Date(),
      },
      until(),
    );
    const requestId = randomUUID();
    await new InferenceOutboxRepository(ds).queue(
      {
        requestId,
        hookInvocationId: invocationId,
        model: 'meditron-70b',
        templateVersion: 't1',
        promptHash: 'c'.repeat(64),
        priority: 1,
        deadlineAt: new Date(Date.now() + 60_000),
        contextManifest: null,
        createdAt: new Date(),
      },
      { m: 1 },
      new Date(),
      null,
      until(),
    );
    return requestId;
  }

  it('writes every column of the entity, each to its own column', () => {
    const mapped = ds.getMetadata(InferenceResultEntity).columns.map((c) => [c.databaseName, c.propertyName]);
    expect([...RESULT_COLUMNS].map(([c, f]) => [c, f]).sort()).toEqual(mapped.sort());
  });

  it('stores a batch whose every field reads back as written, and the requests’ statuses, in one statement', async () => {
    const [a, b] = [await openRequest(), await openRequest()];
    // Distinct values in every field (no two integer fields alike), so a column swapped in the SQL shows.
    const rows: StoredResult[] = [
      {
        requestId: a,
        status: 'completed',
        outcome: 'ok',
        backend: 'vllm@a',
        outputText: '{"findings":[]}',
        errorCode: null,
        tokensIn: 120,
        tokensOut: 31,
        latencyMs: 742,
        completedAt: new Date('2026-11-30T01:02:03.456Z'),
        hookInstance: randomUUID(),
        model: 'meditron-70b',
        templateVersion: 'pv-3',
        promptHash: 'a'.repeat(64),
        attempts: 2,
        servedFrom: 'backend',
      },
      {
        requestId: b,
        status: 'failed',
        outcome: 'error',
        backend: null,
        outputText: null,
        errorCode: 'timeout',
        tokensIn: null,
        tokensOut: null,
        latencyMs: 9,
        completedAt: new Date('2026-11-30T01:02:04.000Z'),
        hookInstance: null,
        model: null,
        templateVersion: null,
        promptHash: null,
        attempts: null,
        servedFrom: null,
      },
    ];
    await inferences.storeResults(rows);
    const stored = await inferences.resultsOf([a, b]);
    const byId = new Map(stored.map((r) => [r.requestId, r]));
    for (const { status: _status, ...written } of rows) expect(byId.get(written.requestId)).toEqual(written);
    const statuses = await queryRows<{ request_id: string; status: string }>(
      db.url,
      `SELECT request_id, status FROM inference_requests WHERE request_id = ANY($1::uuid[]) ORDER BY status`,
      [[a, b]],
    );
    expect(statuses).toEqual([
      { request_id: a, status: 'completed' },
      { request_id: b, status: 'failed' },
    ]);
    // A redelivery stores nothing twice and changes no stored field.
    await inferences.storeResults([{ ...rows[0]!, outputText: 'other', tokensIn: 1 }]);
    expect((await inferences.resultsOf([a]))[0]).toMatchObject({ outputText: '{"findings":[]}', tokensIn: 120 });
  });
});
