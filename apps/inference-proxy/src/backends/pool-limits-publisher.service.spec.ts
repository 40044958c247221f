import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createDataSource, ModelPoolLimitsRepository, runMigrations } from '@app/database';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres';
import { BackendHealth } from './backend-health.service';
import { BackendPool } from './backend-pool.service';
import { PoolLimitsPublisher } from './pool-limits-publisher.service';

const OPTS = {
  callTimeoutMs: 2_000,
  maxAttempts: 2,
  retryBaseMs: 10,
  retryMaxMs: 20,
  cooldownMs: 1_000,
  maxOutstanding: 4,
};

/** The publisher over real backends (model doubles) and the real table. */
describe('PoolLimitsPublisher', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let repo: ModelPoolLimitsRepository;
  const doubles: ModelDouble[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase('pool_publisher');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    repo = new ModelPoolLimitsRepository(ds);
  });

  afterEach(async () => {
    for (const d of doubles.splice(0)) await d.close();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  async function poolOf(...servers: ModelDouble[]): Promise<BackendPool> {
    doubles.push(...servers);
    const pool = new BackendPool(
      servers.map((d, i) => ({ id: `b${i}`, kind: d.flavour, baseUrl: d.baseUrl })),
      OPTS,
    );
    await new BackendHealth(pool.backends, 1_000, 1_000, 'meditron-70b').probeAll();
    return pool;
  }

  const options = { model: 'meditron-70b', maxOutputTokens: 512, checkMs: 1_000, refreshMs: 60_000 };

  it("publishes the smallest context any backend reports (TGI's input limit plus the answer)", async () => {
    const pool = await poolOf(
      await startModelDouble({ limits: { maxModelLen: 4096 } }),
      await startModelDouble({ flavour: 'tgi', limits: { maxInputTokens: 1500, maxTotalTokens: 4096 } }),
    );
    const publisher = new PoolLimitsPublisher(pool, repo, options);
    expect(await publisher.publishOnce()).toBe(true);
    expect(await repo.read('meditron-70b')).toMatchObject({ contextTokens: 2012, backendsReporting: 2 });
  });

  it('writes nothing while no backend reports limits', async () => {
    const pool = await poolOf(await startModelDouble({}));
    pool.backends[0]!.facts = null;
    const publisher = new PoolLimitsPublisher(pool, repo, { ...options, model: 'unreported' });
    expect(await publisher.publishOnce()).toBe(false);
    expect(await repo.read('unreported')).toBeNull();
  });

  it('writes on a change at once, an unchanged value only once refreshMs has passed', async () => {
    const pool = await poolOf(await startModelDouble({ limits: { maxModelLen: 4096 } }));
    let now = 1_000_000;
    const publisher = new PoolLimitsPublisher(pool, repo, { ...options, model: 'refresh' }, () => now);
    expect(await publisher.publishOnce()).toBe(true);
    now += 30_000;
    expect(await publisher.publishOnce()).toBe(false);
    pool.backends[0]!.facts = { models: ['refresh'], version: null, maxInputTokens: null, maxTotalTokens: 2048 };
    expect(await publisher.publishOnce()).toBe(true);
    expect(await repo.read('refresh')).toMatchObject({ contextTokens: 2048 });
    now += 59_000;
    expect(await publisher.publishOnce()).toBe(false);
    now += 1_000;
    expect(await publisher.publishOnce()).toBe(true);
  });
});
