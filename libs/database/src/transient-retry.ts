import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, type BackoffPolicy } from '@app/timing';

/** Postgres / driver failures that a fresh connection can get past (server restart, cut connection, failover). */
const TRANSIENT_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
]);

export function isTransientDbError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  // TypeORM released the query runner when its connection died, before the statement (or COMMIT) was sent: by the
  // runner itself, or by `EntityManager.query` inside a transaction (the Provider variant).
  if (e.name === 'QueryRunnerAlreadyReleasedError' || e.name === 'QueryRunnerProviderAlreadyReleasedError') return true;
  const code = (e as { code?: unknown }).code ?? (e as { driverError?: { code?: unknown } }).driverError?.code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  return /Connection terminated|terminating connection|connection (is )?closed|Client has encountered a connection error/i.test(
    e.message,
  );
}

const WRITE_BACKOFF: BackoffPolicy = { baseMs: 25, maxMs: 500, jitter: 'none' };

/**
 * Runs a database write again on a fresh connection when it failed for a transient reason, with backoff, until
 * `untilMs` (epoch ms). Anything else, or the deadline, rethrows: the caller answers with an error rather than
 * pretending the write happened.
 */
export async function retryTransient<T>(
  write: () => Promise<T>,
  untilMs: number,
  policy: BackoffPolicy = WRITE_BACKOFF,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      const delay = backoffMs(attempt, policy);
      if (!isTransientDbError(e) || Date.now() + delay >= untilMs) throw e;
      await sleep(delay);
    }
  }
}
