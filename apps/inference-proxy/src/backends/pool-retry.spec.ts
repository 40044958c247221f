import { BackendError } from './backend-error';
import { BackendPool, type PoolOptions } from './backend-pool.service';
import type { BackendState } from './backend-state';

const OPTS: PoolOptions = {
  callTimeoutMs: 5_000,
  maxAttempts: 3,
  retryBaseMs: 5,
  retryMaxMs: 20,
  cooldownMs: 60_000,
  maxOutstanding: 8,
};

function pool(opts: Partial<PoolOptions> = {}): BackendPool {
  return new BackendPool(
    [
      { id: 'a', kind: 'vllm', baseUrl: 'http://127.0.0.1:9' },
      { id: 'b', kind: 'vllm', baseUrl: 'http://127.0.0.1:9' },
    ],
    { ...OPTS, ...opts },
  );
}

/** The one retry loop both paths use, with the call supplied (the pool's own calls are tested over model doubles). */
describe('BackendPool.attempt', () => {
  it('tries each backend once, in turn, and stops at a failure that is not worth retrying', async () => {
    const p = pool();
    const seen: string[] = [];
    const overloaded = await p
      .attempt(
        (b: BackendState) => {
          seen.push(b.id);
          return Promise.reject(new BackendError('overloaded', b.id, 429));
        },
        { waitForBackend: false },
      )
      .catch((e: unknown) => e);
    // Untried backends first; the third attempt goes back to one (nothing here cooled them down).
    expect(seen).toHaveLength(3);
    expect(new Set(seen.slice(0, 2))).toEqual(new Set(['a', 'b']));
    expect(overloaded).toMatchObject({ code: 'overloaded', attempts: 3 });

    const calls: string[] = [];
    const refused = await pool()
      .attempt(
        (b: BackendState) => {
          calls.push(b.id);
          return Promise.reject(new BackendError('input_too_long', b.id, 400));
        },
        { waitForBackend: false },
      )
      .catch((e: unknown) => e);
    expect(calls).toHaveLength(1);
    expect(refused).toMatchObject({ code: 'input_too_long', attempts: 1 });
  });

  it('returns the first answer with the backend and the calls it took', async () => {
    let n = 0;
    const out = await pool().attempt(
      (b: BackendState) => (++n === 1 ? Promise.reject(new BackendError('connection', b.id)) : Promise.resolve(n)),
      { waitForBackend: true, deadlineMs: Date.now() + 5_000 },
    );
    expect(out).toMatchObject({ value: 2, attempts: 2 });
  });

  it('without waiting for a backend, a round with none available fails fast as no_backend', async () => {
    const p = pool();
    for (const b of p.backends) b.healthy = false;
    const started = Date.now();
    const err = await p
      .attempt(() => Promise.resolve('never'), { waitForBackend: false, signal: new AbortController().signal })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'no_backend', attempts: 0 });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stops retrying once the caller aborts', async () => {
    const p = pool({ retryBaseMs: 10_000, retryMaxMs: 10_000 });
    const caller = new AbortController();
    const started = Date.now();
    const err = await p
      .attempt(
        (b: BackendState) => {
          setTimeout(() => caller.abort(), 10);
          return Promise.reject(new BackendError('unavailable', b.id, 503));
        },
        { waitForBackend: false, signal: caller.signal },
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unavailable', attempts: 1 });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('waiting for a backend costs no attempt, and gives up at the deadline', async () => {
    const p = pool();
    for (const b of p.backends) b.healthy = false;
    setTimeout(() => (p.backends[0]!.healthy = true), 50);
    const out = await p.attempt(() => Promise.resolve('ok'), { waitForBackend: true, deadlineMs: Date.now() + 5_000 });
    expect(out).toMatchObject({ value: 'ok', backendId: 'a', attempts: 1 });

    for (const b of p.backends) b.healthy = false;
    const end = Date.now() + 200;
    const err = await p
      .attempt(() => Promise.resolve('never'), { waitForBackend: true, deadlineMs: end })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'no_backend', attempts: 0 });
    expect(Date.now()).toBeLessThan(end + 1_000);
  });
});
