import { Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres';
import { runMigrations } from '../data-source';
import { DatabaseModule } from '../database.module';
import { checkAutovacuum, HOT_PATH_TABLES } from './autovacuum-check';

/** The start-up warning when the database does not vacuum by itself (issue 17, stall after-math). */
describe('checkAutovacuum', () => {
  let db: TestDatabase;
  let serverSetting: string;

  beforeAll(async () => {
    db = await createTestDatabase('autovacuum_check');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    serverSetting = (await c.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]!.autovacuum;
    await c.end();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('warns, naming the hot tables, when the server says autovacuum is off', async () => {
    const warnings: string[] = [];
    const on = await checkAutovacuum(async () => [{ autovacuum: 'off' }], { warn: (m) => warnings.push(m) });
    expect(on).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('autovacuum = off');
    for (const t of HOT_PATH_TABLES) expect(warnings[0]).toContain(t);
  });

  it('says nothing when it is on', async () => {
    const warnings: string[] = [];
    expect(await checkAutovacuum(async () => [{ autovacuum: 'on' }], { warn: (m) => warnings.push(m) })).toBe(true);
    expect(warnings).toEqual([]);
  });

  it("agrees with this machine's Postgres, and DatabaseModule runs it at start", async () => {
    await runMigrations(db.url);
    const warnings: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    @Module({ imports: [DatabaseModule.forRoot({ url: db.url, poolSize: 1 })] })
    class Probe {}
    try {
      const app = await Test.createTestingModule({ imports: [Probe] }).compile();
      await app.init();
      await app.close();
    } finally {
      spy.mockRestore();
    }
    const ours = warnings.filter((w) => w.includes('autovacuum'));
    expect(ours).toHaveLength(serverSetting === 'on' ? 0 : 1);
  });
});
