import type { InferenceRepository, InferenceResultEntity } from '@app/database';
import { InProcessBus } from '@app/messaging';
import type { CdsHooksConfig } from '../cds-hooks.config';
import { ResultWaiter } from './result-waiter.service';

/** A results table with one row that can be made to appear; the waiter reads it through `resultsOf`. */
function fakeResults() {
  const rows = new Map<string, InferenceResultEntity>();
  const dataSource = {
    resultsOf: async (ids: ReadonlyArray<string>) => ids.flatMap((id) => rows.get(id) ?? []),
  } as unknown as InferenceRepository;
  return { rows, dataSource };
}

describe('ResultWaiter', () => {
  const config = { RESULT_POLL_MS: 10_000 } as CdsHooksConfig;

  it('gives the result to every call waiting for the same request, and each call its own deadline', async () => {
    const { rows, dataSource } = fakeResults();
    const bus = new InProcessBus();
    const waiter = new ResultWaiter(dataSource, bus, config);
    waiter.onModuleInit();
    try {
      const now = Date.now();
      const early = waiter.wait('r1', now + 50);
      const first = waiter.wait('r1', now + 5_000);
      const second = waiter.wait('r1', now + 5_000);
      expect(await early).toBeUndefined();
      const row = { requestId: 'r1', outcome: 'ok' } as InferenceResultEntity;
      rows.set('r1', row);
      await bus.announce('r1');
      expect(await Promise.all([first, second])).toEqual([row, row]);
    } finally {
      waiter.onModuleDestroy();
    }
  });

  it('releases every waiter on shutdown', async () => {
    const { dataSource } = fakeResults();
    const waiter = new ResultWaiter(dataSource, new InProcessBus(), config);
    waiter.onModuleInit();
    const pending = [waiter.wait('r2', Date.now() + 60_000), waiter.wait('r2', Date.now() + 60_000)];
    waiter.onModuleDestroy();
    expect(await Promise.all(pending)).toEqual([undefined, undefined]);
  });
});
