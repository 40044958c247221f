import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isTransientDbError, retryTransient } from '@app/database';

function pgError(code: string, message = 'x'): Error {
  return Object.assign(new Error(message), { code });
}

describe('retryTransient', () => {
  it('retries a write that failed on a cut connection, then returns its result', async () => {
    let calls = 0;
    const out = await retryTransient(
      async () => {
        calls++;
        if (calls < 3) throw new Error('Connection terminated unexpectedly');
        return 'ok';
      },
      Date.now() + 5000,
      { baseMs: 1, maxMs: 1, jitter: 'none' },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry a constraint violation, and gives up at the deadline', async () => {
    let calls = 0;
    await expect(
      retryTransient(
        async () => {
          calls++;
          throw pgError('23505');
        },
        Date.now() + 5000,
        { baseMs: 1, maxMs: 1, jitter: 'none' },
      ),
    ).rejects.toThrow();
    expect(calls).toBe(1);
    const started = Date.now();
    await expect(
      retryTransient(
        async () => {
          throw pgError('57P01');
        },
        Date.now() + 200,
        { baseMs: 50, maxMs: 50, jitter: 'none' },
      ),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('knows the transient errors', () => {
    expect(isTransientDbError(pgError('57P01'))).toBe(true);
    expect(isTransientDbError(pgError('ECONNREFUSED'))).toBe(true);
    expect(isTransientDbError(Object.assign(new Error('q'), { driverError: { code: '08006' } }))).toBe(true);
    expect(isTransientDbError(pgError('23505'))).toBe(false);
    // TypeORM's own error when the connection died under a transaction (seen in the fault suite's scenario 3).
    const released = new QueryRunnerAlreadyReleasedError();
    expect(isTransientDbError(released)).toBe(true);
    // The same from `EntityManager.query` in a transaction (seen in scenario 8, a Postgres restart).
    expect(isTransientDbError(new QueryRunnerProviderAlreadyReleasedError())).toBe(true);
    expect(isTransientDbError('nope')).toBe(false);
  });
});
