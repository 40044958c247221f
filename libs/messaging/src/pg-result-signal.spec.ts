import { randomUUID } from 'node:crypto';
import { createDataSource, runMigrations } from '@app/database';
import { ADMIN_URL, createTestDatabase, queryRows, type TestDatabase } from '@app/testing/postgres';
import { PgResultSignal } from './pg-result-signal';

describe('PgResultSignal (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('unit_result_signal');
    await runMigrations(db.url);
  });
  afterAll(() => db.drop());

  it('hears announcements again after its listening connection is cut, repeatedly', async () => {
    const ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    const signal = new PgResultSignal(ds, db.url);
    await signal.listen();
    const heard: string[] = [];
    signal.subscribe((id) => heard.push(id));
    try {
      for (let cut = 0; cut < 3; cut++) {
        await queryRows(
          db.url,
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'meditron-cds-results' AND datname = current_database()`,
        );
        const id = randomUUID();
        const until = Date.now() + 10_000;
        while (!heard.includes(id) && Date.now() < until) {
          await signal.announce(id).catch(() => undefined);
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(heard).toContain(id);
      }
    } finally {
      await signal.close();
      await ds.destroy();
    }
  }, 40_000);

  it('keeps retrying when a reconnect attempt fails, and listens again once the database takes connections', async () => {
    const ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    const signal = new PgResultSignal(ds, db.url);
    await signal.listen();
    const heard: string[] = [];
    signal.subscribe((id) => heard.push(id));
    try {
      await queryRows(ADMIN_URL, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
      await queryRows(
        ADMIN_URL,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'meditron-cds-results' AND datname = '${db.name}'`,
      );
      // At least two reconnect attempts (one per second) fail while connections are refused.
      await new Promise((r) => setTimeout(r, 2500));
      await queryRows(ADMIN_URL, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
      const id = randomUUID();
      const until = Date.now() + 10_000;
      while (!heard.includes(id) && Date.now() < until) {
        await signal.announce(id).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(heard).toContain(id);
    } finally {
      await queryRows(ADMIN_URL, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`).catch(() => undefined);
      await signal.close();
      await ds.destroy();
    }
  }, 40_000);
});
