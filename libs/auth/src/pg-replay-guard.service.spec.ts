import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '@app/database';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres';
import { runtimeUrls, type RuntimeUrls } from '../../../test/support/runtime-roles';
import { jtiHash, PgReplayGuard } from './pg-replay-guard.service';

/** The replay claim on Postgres, as the gateway's own runtime login runs it. */
describe('PgReplayGuard on Postgres', () => {
  let db: TestDatabase;
  let urls: RuntimeUrls;
  let ds: DataSource;
  let guard: PgReplayGuard;
  const inAMinute = () => new Date(Date.now() + 60_000);

  beforeAll(async () => {
    db = await createTestDatabase('replay_guard');
    await runMigrations(db.url);
    urls = await runtimeUrls(db.url);
    ds = createDataSource({ url: urls.gateway, poolSize: 2 });
    await ds.initialize();
    guard = new PgReplayGuard(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  async function withClient<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  }

  it('accepts a jti once per issuer, refuses it after, and stores only its hash and expiry', async () => {
    const jti = randomUUID();
    expect(await guard.claim('https://ehr-a', jti, inAMinute())).toBe(true);
    expect(await guard.claim('https://ehr-a', jti, inAMinute())).toBe(false);
    expect(await guard.claim('https://ehr-b', jti, inAMinute())).toBe(true);
    const rows = await withClient(
      db.url,
      async (c) =>
        (
          await c.query<{ jti_hash: string }>('SELECT jti_hash FROM jwt_replay WHERE jti_hash = $1', [
            jtiHash('https://ehr-a', jti),
          ])
        ).rows,
    );
    expect(rows).toEqual([{ jti_hash: jtiHash('https://ehr-a', jti) }]);
  });

  it('lets a row past its expiry be taken over (it only awaits the purge), and the purge removes expired rows', async () => {
    const jti = randomUUID();
    expect(await guard.claim('https://ehr-a', jti, new Date(Date.now() - 1000))).toBe(true);
    expect(await guard.claim('https://ehr-a', jti, inAMinute())).toBe(true);
    expect(await guard.claim('https://ehr-a', jti, inAMinute())).toBe(false);
    const gone = randomUUID();
    await guard.claim('https://ehr-a', gone, new Date(Date.now() - 1000));
    expect(await guard.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await guard.claim('https://ehr-a', jti, inAMinute())).toBe(false);
  });

  it('commits its own transaction without waiting for the WAL flush, and leaves the session synchronous', async () => {
    await withClient(urls.gateway, async (c) => {
      await c.query('BEGIN');
      await c.query('SELECT jwt_replay_claim($1, $2)', [jtiHash('https://ehr-a', randomUUID()), inAMinute()]);
      expect((await c.query<{ v: string }>(`SELECT current_setting('synchronous_commit') AS v`)).rows[0]?.v).toBe(
        'off',
      );
      await c.query('COMMIT');
      expect((await c.query<{ v: string }>(`SELECT current_setting('synchronous_commit') AS v`)).rows[0]?.v).toBe('on');
    });
  });

  it('may be called by the gateway only', async () => {
    await withClient(urls.cdsHooks, async (c) => {
      await expect(
        c.query('SELECT jwt_replay_claim($1, $2)', [jtiHash('https://ehr-a', randomUUID()), inAMinute()]),
      ).rejects.toThrow(/permission denied for function jwt_replay_claim/);
    });
  });
});
