import type { InferenceRepository, InferenceResultEntity } from '@app/database';
import { InProcessBus } from '@app/messaging';
import type { CdsHooksConfig } from '../cds-hooks.config';
import { ResultWaiter } from './result-waiter.service';

/** A results table with one row that can be made to appear; the waiter reads it through `resultsOf`. */
function fakeResults() {
  const rows = new Map<string, InferenceResultEntity>();
  const reads: string[][] = [];
  const dataSource = {
    resultsOf: async (ids: ReadonlyArray<string>) => {
      reads.push([...ids]);
      return ids.flatMap((id) => rows.get(id) ?? []);
    },
  } as unknown as InferenceRepository;
  return { rows, dataSource, reads };
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

  it('does not read a request the caller just published until its signal, unless the signal came first', async () => {
    const { rows, dataSource, reads } = fakeResults();
    const bus = new InProcessBus();
    const waiter = new ResultWaiter(dataSource, bus, config);
    waiter.onModuleInit();
    try {
      const quiet = waiter.wait('p1', Date.now() + 5_000, { published: true });
      await new Promise((r) => setTimeout(r, 10));
      expect(reads).toEqual([]);
      const row = { requestId: 'p1', outcome: 'ok' } as InferenceResultEntity;
      rows.set('p1', row);
      await bus.announce('p1');
      expect(await quiet).toBe(row);

      // The result beat its waiter: the remembered signal makes the waiter read at once.
      rows.set('p2', { requestId: 'p2', outcome: 'ok' } as InferenceResultEntity);
      await bus.announce('p2');
      expect(await waiter.wait('p2', Date.now() + 5_000, { published: true })).toMatchObject({ requestId: 'p2' });
    } finally {
      waiter.onModuleDestroy();
    }
  });

  it('reads the results signalled together in one query', async () => {
    const { rows, dataSource, reads } = fakeResults();
    const bus = new InProcessBus();
    const waiter = new ResultWaiter(dataSource, bus, config);
    waiter.onModuleInit();
    try {
      const ids = ['s1', 's2', 's3'];
      const waits = ids.map((id) => waiter.wait(id, Date.now() + 5_000, { published: true }));
      for (const id of ids) rows.set(id, { requestId: id, outcome: 'ok' } as InferenceResultEntity);
      await Promise.all(ids.map((id) => bus.announce(id)));
      expect((await Promise.all(waits)).map((r) => r?.requestId)).toEqual(ids);
      expect(reads).toEqual([ids]);
    } finally {
      waiter.onModuleDestroy();
    }
  });
});
