import type { DataSource } from 'typeorm';
import { createTestDatabase, queryRows, type TestDatabase } from '../../../../test/support/postgres';
import { createDataSource, runMigrations } from '../data-source';
import { ModelPoolLimitsRepository } from './model-pool-limits.repository';

/** The repository against the machine's Postgres with the real migrations. */
describe('ModelPoolLimitsRepository on Postgres', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let repo: ModelPoolLimitsRepository;

  beforeAll(async () => {
    db = await createTestDatabase('pool_limits');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    repo = new ModelPoolLimitsRepository(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('reads nothing for a model never published', async () => {
    expect(await repo.read('never-published')).toBeNull();
  });

  it('publishes one row per model, replaced in place with a newer updated_at', async () => {
    await repo.publish('meditron-70b', 3584, 2);
    const first = await repo.read('meditron-70b');
    expect(first).toMatchObject({ model: 'meditron-70b', contextTokens: 3584, backendsReporting: 2 });
    await new Promise((r) => setTimeout(r, 20));
    await repo.publish('meditron-70b', 2048, 3);
    const second = await repo.read('meditron-70b');
    expect(second).toMatchObject({ contextTokens: 2048, backendsReporting: 3 });
    expect(second!.updatedAt.getTime()).toBeGreaterThan(first!.updatedAt.getTime());
    const rows = await queryRows<{ n: string }>(db.url, `SELECT count(*) AS n FROM model_pool_limits`);
    expect(rows[0]!.n).toBe('1');
  });

  it('refuses a non-positive context, in code and in the table', async () => {
    await expect(repo.publish('m', 0, 1)).rejects.toThrow(RangeError);
    await expect(
      ds.query(`INSERT INTO model_pool_limits (model, context_tokens, backends_reporting) VALUES ('m', -1, 1)`),
    ).rejects.toThrow(/check constraint/);
    expect(await repo.read('m')).toBeNull();
  });
});
