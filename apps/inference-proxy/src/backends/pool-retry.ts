import { Logger } from '@nestjs/common';
import { inSpan, inSyncSpan } from '@app/observability';
import { backoffMs, pause } from '@app/timing';
import { BackendError } from './backend-error';
import type { BackendState } from './backend-state';
import { chooseBackend } from './routing-policy';

export interface RetryLimits {
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly maxOutstanding: number;
}

export interface AttemptOptions {
  /** Epoch ms: no wait that would end past it is started, and a call gets at most what is left. */
  readonly deadlineMs?: number;
  /** Stops waiting and retrying once aborted (the facade's caller went away). */
  readonly signal?: AbortSignal;
  /**
   * true (Kafka): while no backend is available the request waits for one, `retryBaseMs` at a time, inside its
   * deadline and at no cost in attempts, so a pool-wide outage shorter than the deadline delays instead of failing.
   * false (facade, no deadline): a round that finds no backend counts like an attempt, so the caller is not held.
   */
  readonly waitForBackend: boolean;
}

/** One call on the chosen backend; throws a BackendError to have the next backend tried (when retryable). */
export type AttemptCall<T> = (backend: BackendState, attempt: number, remainingMs: number) => Promise<T>;

export interface Attempted<T> {
  readonly value: T;
  readonly backendId: string;
  readonly attempts: number;
}

const logger = new Logger('BackendPool');
const TRACER = 'meditron-inference-proxy';

/**
 * The backend choice of one round as a span: which engine (or none free) was picked. Synchronous, so the chosen
 * backend is booked (callStarted) in the same tick and concurrent requests see its load.
 */
function routeSpan(round: number, choose: () => BackendState | undefined): BackendState | undefined {
  return inSyncSpan(TRACER, 'inference.route', { attributes: { 'meditron.round': round } }, (span) => {
    const backend = choose();
    span.setAttribute('meditron.backend.id', backend?.id ?? 'none');
    return backend;
  });
}

/**
 * The pool's one retry loop, for Kafka and facade traffic alike: choose the least loaded untried backend, call it,
 * and on a retryable failure try another after exponential backoff with full jitter. Throws the last failure
 * (or `no_backend` / `timeout`) carrying the number of backend calls made.
 */
export async function attemptOverPool<T>(
  backends: ReadonlyArray<BackendState>,
  limits: RetryLimits,
  call: AttemptCall<T>,
  opts: AttemptOptions,
): Promise<Attempted<T>> {
  const tried = new Set<string>();
  let last: BackendError | undefined;
  let attempts = 0;
  let rounds = 0;
  let waitingForBackend = false;
  const spent = (): number => (opts.waitForBackend ? attempts : rounds);
  while (spent() < limits.maxAttempts && !opts.signal?.aborted) {
    if (spent() > 0 || waitingForBackend) {
      const wait =
        opts.waitForBackend && waitingForBackend
          ? limits.retryBaseMs
          : backoffMs(spent(), { baseMs: limits.retryBaseMs, maxMs: limits.retryMaxMs, jitter: 'full' });
      if (opts.deadlineMs !== undefined && Date.now() + wait >= opts.deadlineMs) break;
      if (!(await pause(wait, opts.signal))) break;
    }
    const remaining = opts.deadlineMs === undefined ? Number.POSITIVE_INFINITY : opts.deadlineMs - Date.now();
    if (remaining <= 0) break;
    const backend = routeSpan(rounds + 1, () =>
      chooseBackend(backends, { now: Date.now(), tried, maxOutstanding: limits.maxOutstanding }),
    );
    rounds += 1;
    waitingForBackend = !backend;
    if (!backend) {
      last ??= new BackendError('no_backend', 'pool');
      continue;
    }
    tried.add(backend.id);
    attempts += 1;
    try {
      const attempt = attempts;
      const value = await inSpan(
        TRACER,
        'inference.attempt',
        { attributes: { 'meditron.attempt': attempt, 'meditron.backend.id': backend.id } },
        () => call(backend, attempt, remaining),
      );
      return { value, backendId: backend.id, attempts };
    } catch (e) {
      last = e instanceof BackendError ? e : new BackendError('unknown', backend.id);
      logger.warn(`${last.message}; attempt ${attempts}${last.retryable ? '' : ', not retryable'}`);
      if (!last.retryable) break;
    }
  }
  throw (last ?? new BackendError('timeout', 'pool')).withAttempts(attempts);
}
