import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createTestDatabase, queryRows, type TestDatabase } from '../../../../test/support/postgres';
import { createDataSource, runMigrations } from '../data-source';
import { InferenceResultEntity } from '../entities/inference-result.entity';
import { HookInvocationRepository } from './hook-invocation.repository';
import { InferenceOutboxRepository } from './inference-outbox.repository';
import { storedResult } from '../../../../test/support/inference-results';
import { InferenceRepository, RESULT_COLUMNS, type StoredResult } from './inference.repository';
import { readResultNotification, RESULT_NOTIFY_MAX_OCTETS } from './result-notification';

/** The result batch's hand-written INSERT (storeResults) against the entity it stores and a real Postgres. */
describe('storeResults: the result batch as plain SQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let inferences: InferenceRepository;
  const until = () => Date.now() + 2000;

  beforeAll(async () => {
    db = await createTestDatabase('result_insert');
    await runMigrations(db.url);
    // A session time zone off UTC by a fraction of an hour: the carried completedAt (JSON text with its offset) must
    // still be the same instant as the one a read gives.
    await queryRows(db.url, `ALTER DATABASE ${db.name} SET timezone = 'Asia/Kathmandu'`);
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
    const returned = await inferences.storeResults(rows);
    const stored = await inferences.resultsOf([a, b]);
    const byId = new Map(stored.map((r) => [r.requestId, r]));
    for (const { status: _status, ...written } of rows) expect(byId.get(written.requestId)).toEqual(written);
    // The statement hands back the rows it stored, exactly as a read gives them.
    expect(new Map(returned.map((r) => [r.requestId, r]))).toEqual(byId);
    const statuses = await queryRows<{ request_id: string; status: string }>(
      db.url,
      `SELECT request_id, status FROM inference_requests WHERE request_id = ANY($1::uuid[]) ORDER BY status`,
      [[a, b]],
    );
    expect(statuses).toEqual([
      { request_id: a, status: 'completed' },
      { request_id: b, status: 'failed' },
    ]);
    // A redelivery stores nothing twice, changes no stored field, and hands back nothing (its candidate lost).
    expect(await inferences.storeResults([{ ...rows[0]!, outputText: 'other', tokensIn: 1 }])).toEqual([]);
    expect((await inferences.resultsOf([a]))[0]).toMatchObject({ outputText: '{"findings":[]}', tokensIn: 120 });
  });

  describe('with a notify channel (the Kafka-mode announcement)', () => {
    const CHANNEL = 'result_insert_spec';
    let listener: Client;
    const heard: string[] = [];

    beforeAll(async () => {
      listener = new Client({ connectionString: db.url });
      await listener.connect();
      listener.on('notification', (n) => {
        if (n.channel === CHANNEL && n.payload) heard.push(n.payload);
      });
      await listener.query(`LISTEN ${CHANNEL}`);
    });

    afterAll(async () => {
      await listener?.end();
    });

    const result = (requestId: string): StoredResult => storedResult(requestId);

    /** The request ids heard so far, whatever their payload's form. */
    const heardIds = (): string[] => heard.map((p) => readResultNotification(p)?.requestId ?? p);

    const heardAll = async (ids: string[]): Promise<void> => {
      for (let i = 0; i < 100 && !ids.every((id) => heardIds().includes(id)); i++)
        await new Promise((r) => setTimeout(r, 20));
    };

    /** The one payload heard for `id`. */
    const payloadFor = (id: string): string => {
      const found = heard.filter((p) => readResultNotification(p)?.requestId === id);
      expect(found).toHaveLength(1);
      return found[0]!;
    };

    it('announces each stored row once, as its stored row’s JSON, in the statement that stores it', async () => {
      const [a, b] = [await openRequest(), await openRequest()];
      heard.length = 0;
      const returned = await inferences.storeResults(
        [result(a), { ...result(b), outputText: 'é "quoted" \\ ☃' }],
        undefined,
        CHANNEL,
      );
      await heardAll([a, b]);
      expect(heardIds().sort()).toEqual([a, b].sort());
      const stored = await inferences.resultsOf([a, b]);
      expect(stored.map((r) => r.requestId).sort()).toEqual([a, b].sort());
      for (const row of stored) {
        const payload = payloadFor(row.requestId);
        expect(payload.startsWith('{')).toBe(true);
        // The carried row is the stored one, field for field and type for type (a Date for completedAt).
        expect(readResultNotification(payload)).toEqual({ requestId: row.requestId, result: row });
      }
      expect(new Map(returned.map((r) => [r.requestId, r]))).toEqual(new Map(stored.map((r) => [r.requestId, r])));
      const statuses = await queryRows<{ status: string }>(
        db.url,
        `SELECT status FROM inference_requests WHERE request_id = ANY($1::uuid[])`,
        [[a, b]],
      );
      expect(statuses.map((r) => r.status)).toEqual(['completed', 'completed']);
    });

    it('announces a row that was already stored by its bare id, and never its new candidate', async () => {
      const [a, b] = [await openRequest(), await openRequest()];
      await inferences.storeResults([result(a)], undefined, CHANNEL);
      await heardAll([a]);
      heard.length = 0;
      // A redelivery of `a` (a different candidate) in the same batch as a fresh `b`.
      const returned = await inferences.storeResults(
        [{ ...result(a), outputText: 'second answer' }, result(b)],
        undefined,
        CHANNEL,
      );
      await heardAll([a, b]);
      expect(payloadFor(a)).toBe(a);
      expect(readResultNotification(payloadFor(b))?.result).toEqual((await inferences.resultsOf([b]))[0]);
      expect(returned.map((r) => r.requestId)).toEqual([b]);
      expect((await inferences.resultsOf([a]))[0]?.outputText).toBe('{"findings":[]}');
    });

    it('announces a row whose JSON is over the size limit by its bare id (NOTIFY refuses 8000 bytes)', async () => {
      const [big, multibyte, fits] = [await openRequest(), await openRequest(), await openRequest()];
      heard.length = 0;
      await inferences.storeResults(
        [
          { ...result(big), outputText: 'x'.repeat(9_000) },
          // Under the limit in characters, over it in octets: the limit counts bytes.
          { ...result(multibyte), outputText: '☃'.repeat(3_000) },
          { ...result(fits), outputText: 'x'.repeat(RESULT_NOTIFY_MAX_OCTETS - 600) },
        ],
        undefined,
        CHANNEL,
      );
      await heardAll([big, multibyte, fits]);
      expect(payloadFor(big)).toBe(big);
      expect(payloadFor(multibyte)).toBe(multibyte);
      const carried = payloadFor(fits);
      expect(Buffer.byteLength(carried)).toBeLessThanOrEqual(RESULT_NOTIFY_MAX_OCTETS);
      expect(readResultNotification(carried)?.result).toEqual((await inferences.resultsOf([fits]))[0]);
    });

    it('announces nothing when the statement fails (NOTIFY is delivered only at commit)', async () => {
      const a = await openRequest();
      heard.length = 0;
      // A result for a request that was never stored breaks the foreign key: the whole statement rolls back.
      const refused = await inferences
        .storeResults([result(a), result(randomUUID())], undefined, CHANNEL)
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: '23503' });
      // A later notification on the same connection shows the listener is live, and that nothing came before it.
      const b = await openRequest();
      await inferences.storeResults([result(b)], undefined, CHANNEL);
      await heardAll([b]);
      expect(heardIds()).toEqual([b]);
      expect(await inferences.resultsOf([a])).toEqual([]);
    });
  });
});
