import type { DataSource } from 'typeorm';
import { isTransientDbError } from '../transient-retry';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres';
import { createDataSource } from '../data-source';
import { hotQuery, MAX_PREPARED_TEXTS, statementName } from './hot-query';

/** Named prepared statements against the machine's Postgres: one connection per pool, so its session is the one seen. */
describe('hotQuery on Postgres', () => {
  let db: TestDatabase;
  let on: DataSource;
  let off: DataSource;

  const preparedIn = async (ds: DataSource): Promise<string[]> =>
    ((await ds.query(`SELECT name FROM pg_prepared_statements ORDER BY name`)) as Array<{ name: string }>).map(
      (r) => r.name,
    );

  beforeAll(async () => {
    db = await createTestDatabase('hot_query');
    on = createDataSource({ url: db.url, poolSize: 1 });
    off = createDataSource({ url: db.url, poolSize: 1, preparedStatements: false });
    await Promise.all([on.initialize(), off.initialize()]);
    await on.query(`CREATE TABLE hot_query_t (id int PRIMARY KEY, label text NOT NULL)`);
  });

  afterAll(async () => {
    await on?.destroy();
    await off?.destroy();
    await db?.drop();
  });

  it('runs a statement prepared once per connection, under the name of its text, and returns its rows', async () => {
    const text = `SELECT $1::int + 1 AS n, $2::text AS s`;
    expect(await hotQuery(on, text, [41, 'a'])).toEqual([{ n: 42, s: 'a' }]);
    expect(await hotQuery(on, text, [1, 'b'])).toEqual([{ n: 2, s: 'b' }]);
    const name = statementName(text)!;
    expect(name).toMatch(/^mdt_[0-9a-f]{24}$/);
    expect(await preparedIn(on)).toEqual([name]);
  });

  it('runs unnamed when the data source has them off, with the same rows', async () => {
    const text = `SELECT $1::int * 2 AS n`;
    expect(await hotQuery(off, text, [21])).toEqual([{ n: 42 }]);
    expect(await preparedIn(off)).toEqual([]);
  });

  it('runs unnamed when the caller says so (a batch text that varies with its size)', async () => {
    const text = `SELECT $1::int - 1 AS n`;
    expect(await hotQuery(on, text, [43], { prepare: false })).toEqual([{ n: 42 }]);
    expect(await preparedIn(on)).not.toContain(statementName(text));
  });

  it("writes, and a refusal is node-postgres' own error with its code (what the retry and row checks read)", async () => {
    const insert = `INSERT INTO hot_query_t (id, label) VALUES ($1, $2)`;
    expect(await hotQuery(on, insert, [1, 'one'])).toEqual([]);
    const refused = await hotQuery(on, insert, [1, 'again']).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: '23505', constraint: 'hot_query_t_pkey' });
    expect(isTransientDbError(refused)).toBe(false);
    expect(await on.query(`SELECT label FROM hot_query_t`)).toEqual([{ label: 'one' }]);
  });

  it('names only the first texts a process sees, then runs the rest unnamed', () => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('./hot-query') as typeof import('./hot-query');
      const names = Array.from({ length: MAX_PREPARED_TEXTS }, (_, i) => fresh.statementName(`SELECT ${i}`));
      expect(new Set(names).size).toBe(MAX_PREPARED_TEXTS);
      expect(fresh.statementName(`SELECT 'one too many'`)).toBeUndefined();
      expect(fresh.statementName(`SELECT 0`)).toBe(names[0]);
    });
  });
});
