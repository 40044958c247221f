import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { RESULT_CHANNEL } from '@app/contracts';
import {
  createDataSource,
  InferenceRepository,
  runMigrations,
  type InferenceResultEntity,
  type StoredResult,
} from '@app/database';
import { InProcessBus, PgResultSignal, type ResultSignal } from '@app/messaging';
import { openRequestOnRecord, storedResult } from '../../../../test/support/inference-results';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres';
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

/**
 * The reply signal carrying the stored row, on a real Postgres: the waiter settles from it without reading
 * (`resultsOf` calls counted on the real repository), and reads as before when only the id came.
 */
describe('ResultWaiter with the stored row in the signal (real Postgres)', () => {
  const config = { RESULT_POLL_MS: 600_000 } as CdsHooksConfig;
  let db: TestDatabase;
  let ds: DataSource;
  let repo: InferenceRepository;
  let reads: jest.SpyInstance;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase('waiter_signal');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  beforeEach(() => {
    repo = new InferenceRepository(ds);
    reads = jest.spyOn(repo, 'resultsOf');
  });

  /** An open request on record (results reference it), with the row its result would store. */
  async function openRequest(): Promise<StoredResult> {
    return storedResult(await openRequestOnRecord(ds), {
      outputText: '{"findings":[{"code":"synthetic"}]}',
      tokensOut: 4,
      latencyMs: 7,
    });
  }

  async function withWaiter(signal: ResultSignal, run: (waiter: ResultWaiter) => Promise<void>): Promise<void> {
    const waiter = new ResultWaiter(repo, signal, config);
    waiter.onModuleInit();
    try {
      await run(waiter);
    } finally {
      waiter.onModuleDestroy();
    }
  }

  /** The stored row, read after the fact (not counted). */
  async function storedRow(id: string): Promise<InferenceResultEntity | undefined> {
    reads.mockRestore();
    return (await repo.resultsOf([id]))[0];
  }

  describe('over Postgres NOTIFY (Kafka mode)', () => {
    let signal: PgResultSignal;

    beforeEach(async () => {
      signal = new PgResultSignal(ds, db.url);
      await signal.listen();
    });
    afterEach(() => signal.close());

    it('settles from the row the store statement sent, without reading it', async () => {
      await withWaiter(signal, async (waiter) => {
        const row = await openRequest();
        const waiting = waiter.wait(row.requestId, Date.now() + 10_000, { published: true });
        await repo.storeResults([row], undefined, RESULT_CHANNEL);
        const settled = await waiting;
        expect(reads).not.toHaveBeenCalled();
        expect(settled).toEqual(await storedRow(row.requestId));
        expect(settled?.completedAt).toBeInstanceOf(Date);
      });
    });

    it('reads the row when only its id came: a redelivery’s store, whose row was stored first', async () => {
      await withWaiter(signal, async (waiter) => {
        const row = await openRequest();
        await repo.storeResults([row]);
        const waiting = waiter.wait(row.requestId, Date.now() + 10_000, { published: true });
        // The second store conflicts: its candidate is not announced, only the id.
        await repo.storeResults([{ ...row, outputText: 'a later answer' }], undefined, RESULT_CHANNEL);
        const settled = await waiting;
        expect(reads).toHaveBeenCalledTimes(1);
        expect(settled?.outputText).toBe(row.outputText);
        expect(settled).toEqual(await storedRow(row.requestId));
      });
    });

    it('reads the row for an older proxy’s bare id, and for a payload whose row does not parse', async () => {
      await withWaiter(signal, async (waiter) => {
        const [old, odd] = [await openRequest(), await openRequest()];
        await repo.storeResults([old, odd]);
        const waiting = [old, odd].map((r) => waiter.wait(r.requestId, Date.now() + 10_000, { published: true }));
        await ds.query('SELECT pg_notify($1, $2)', [RESULT_CHANNEL, old.requestId]);
        await ds.query('SELECT pg_notify($1, $2)', [
          RESULT_CHANNEL,
          JSON.stringify({ requestId: odd.requestId, outcome: 'an-outcome-from-the-future' }),
        ]);
        const settled = await Promise.all(waiting);
        expect(reads.mock.calls.flat(2).sort()).toEqual([old.requestId, odd.requestId].sort());
        expect(settled.map((r) => r?.outputText)).toEqual([old.outputText, odd.outputText]);
      });
    });
  });

  describe('over the in-process bus', () => {
    it('settles from the row the store returned, without reading it; reads when only the id came', async () => {
      const bus = new InProcessBus();
      await withWaiter(bus, async (waiter) => {
        const [fresh, again] = [await openRequest(), await openRequest()];
        const waiting = waiter.wait(fresh.requestId, Date.now() + 10_000, { published: true });
        const [returned] = await repo.storeResults([fresh]);
        await bus.announce(fresh.requestId, returned);
        expect(await waiting).toBe(returned);
        expect(reads).not.toHaveBeenCalled();

        await repo.storeResults([again]);
        const read = waiter.wait(again.requestId, Date.now() + 10_000, { published: true });
        await bus.announce(again.requestId);
        expect((await read)?.requestId).toBe(again.requestId);
        expect(reads).toHaveBeenCalledTimes(1);
      });
    });
  });
});
