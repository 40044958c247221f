import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createDataSource, ModelPoolLimitsRepository, runMigrations } from '@app/database';
import { MODEL_PROFILES } from '@app/prompts';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres';
import { loadCdsHooksConfig } from '../cds-hooks.config';
import { PoolContextService, type PoolContextOptions } from './pool-context.service';
import { TEST_INTERNAL_TOKEN_SECRET } from '../../../../test/support/stack-env';

const PROFILE_CONTEXT = MODEL_PROFILES['meditron-70b'].contextTokens;

/** The service over the real table, as the proxy's publisher fills it. */
describe('PoolContextService', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let repo: ModelPoolLimitsRepository;
  let now: number;
  let model: string;
  let n = 0;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase('pool_context');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    repo = new ModelPoolLimitsRepository(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  beforeEach(() => {
    now = Date.now();
    model = `meditron-70b-${++n}`;
  });

  function service(opts: Partial<PoolContextOptions> = {}): PoolContextService {
    const config = loadCdsHooksConfig({
      INFERENCE_MODEL: model,
      MODEL_PROFILE: 'meditron-70b',
      INTERNAL_TOKEN_SECRET: TEST_INTERNAL_TOKEN_SECRET,
    });
    return new PoolContextService(repo, config, MODEL_PROFILES['meditron-70b'], {
      cacheMs: 15_000,
      maxAgeMs: 600_000,
      now: () => now,
      ...opts,
    });
  }

  it("uses the profile's constant while nothing is published", async () => {
    expect(await service().current()).toEqual({ contextTokens: PROFILE_CONTEXT, source: 'profile' });
  });

  it("takes the pool's smaller context, but never more than the model's own", async () => {
    await repo.publish(model, 2012, 2);
    expect(await service().current()).toEqual({ contextTokens: 2012, source: 'pool' });
    await repo.publish(model, 32_768, 2);
    expect(await service().current()).toEqual({ contextTokens: PROFILE_CONTEXT, source: 'pool' });
  });

  it('ignores a row the proxy stopped refreshing', async () => {
    await repo.publish(model, 2012, 1);
    now += 601_000; // updated_at is the database clock, a few ms after `now` was taken
    expect(await service().current()).toEqual({ contextTokens: PROFILE_CONTEXT, source: 'profile' });
  });

  it('reads the table at most once per cacheMs, however many hooks ask', async () => {
    await repo.publish(model, 3000, 1);
    const read = jest.spyOn(repo, 'read');
    try {
      const s = service();
      expect(await Promise.all([s.contextTokens(), s.contextTokens(), s.contextTokens()])).toEqual([3000, 3000, 3000]);
      await repo.publish(model, 2500, 1);
      now += 14_000;
      expect(await s.contextTokens()).toBe(3000);
      expect(read).toHaveBeenCalledTimes(1);
      now += 1_000;
      expect(await s.contextTokens()).toBe(2500);
      expect(read).toHaveBeenCalledTimes(2);
    } finally {
      read.mockRestore();
    }
  });

  it("falls back to the profile's constant when the table cannot be read", async () => {
    const read = jest.spyOn(repo, 'read').mockRejectedValueOnce(new Error('connection terminated'));
    try {
      await repo.publish(model, 2012, 1);
      const s = service();
      expect(await s.current()).toEqual({ contextTokens: PROFILE_CONTEXT, source: 'profile' });
      now += 15_000;
      expect(await s.current()).toEqual({ contextTokens: 2012, source: 'pool' });
    } finally {
      read.mockRestore();
    }
  });
});
