import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { RESULT_CHANNEL } from '@app/contracts';
import { createDataSource, InferenceRepository, runMigrations, type InferenceResultEntity } from '@app/database';
import { openRequestOnRecord, storedResult } from '@app/testing/inference-results';
import { ADMIN_URL, createTestDatabase, queryRows, type TestDatabase } from '@app/testing/postgres';
import { PgResultSignal } from './pg-result-signal';

describe('PgResultSignal (real Postgres)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let signal: PgResultSignal;
  let heard: string[];
  let carried: Array<InferenceResultEntity | undefined>;

  beforeAll(async () => {
    db = await createTestDatabase('unit_result_signal');
    await runMigrations(db.url);
  });
  afterAll(() => db.drop());

  beforeEach(async () => {
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    signal = new PgResultSignal(ds, db.url);
    await signal.listen();
    heard = [];
    carried = [];
    signal.subscribe((id, stored) => {
      heard.push(id);
      carried.push(stored);
    });
  });
  afterEach(async () => {
    await queryRows(ADMIN_URL, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    await signal.close();
    await ds.destroy();
  });

  /** Cuts the listener's connection from outside, as a failover or an idle-connection reaper would. */
  const cutListener = () =>
    queryRows(
      ADMIN_URL,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'meditron-cds-results' AND datname = '${db.name}'`,
    );

  /** Announces a fresh id until the listener hears it (or 10 s pass); announcing may fail while the DB is away. */
  async function expectHeardAgain(): Promise<void> {
    const id = randomUUID();
    const until = Date.now() + 10_000;
    while (!heard.includes(id) && Date.now() < until) {
      await signal.announce(id).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(heard).toContain(id);
  }

  it('hands listeners the row a store statement sent, the id alone for a bare id, and nothing unreadable', async () => {
    const repo = new InferenceRepository(ds);
    const requestId = await openRequestOnRecord(ds, { model: 'm', templateVersion: 't', promptHash: 'a'.repeat(64) });
    const olderProxy = randomUUID();
    await ds.query('SELECT pg_notify($1, $2)', [RESULT_CHANNEL, '{"outcome":"ok"}']);
    await ds.query('SELECT pg_notify($1, $2)', [RESULT_CHANNEL, olderProxy]);
    const [returned] = await repo.storeResults(
      [
        storedResult(requestId, {
          status: 'failed',
          outcome: 'error',
          backend: null,
          outputText: null,
          errorCode: 'timeout',
          tokensIn: null,
          tokensOut: null,
          latencyMs: 3,
          model: 'm',
          templateVersion: 't',
          promptHash: 'a'.repeat(64),
          attempts: 2,
          servedFrom: null,
        }),
      ],
      undefined,
      RESULT_CHANNEL,
    );
    for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    // Delivered in order: the unreadable payload first, heard by no listener.
    expect(heard).toEqual([olderProxy, requestId]);
    expect(carried).toEqual([undefined, returned]);
    expect(returned).toEqual((await repo.resultsOf([requestId]))[0]);
  });

  it('hears announcements again after its listening connection is cut, repeatedly', async () => {
    for (let cut = 0; cut < 3; cut++) {
      await cutListener();
      await expectHeardAgain();
    }
  }, 40_000);

  it('keeps retrying when a reconnect attempt fails, and listens again once the database takes connections', async () => {
    await queryRows(ADMIN_URL, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
    await cutListener();
    // At least two reconnect attempts (one per second) fail while connections are refused.
    await new Promise((r) => setTimeout(r, 2500));
    await queryRows(ADMIN_URL, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    await expectHeardAgain();
  }, 40_000);
});
