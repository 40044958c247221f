import type { BackendState } from './backend-state';

/** KV-cache use above this means the backend is about to queue or preempt: steer away hard. */
const KV_PRESSURE_THRESHOLD = 0.9;
/** Most load a slow backend's latency can add (as many queued requests). */
const MAX_LATENCY_PENALTY = 8;
/** Per-token noise below this is not load (a 70B model decodes at >= ~10 ms/token on 4xH100). */
const LATENCY_FLOOR_S = 0.02;
/** The latency penalty halves every this many ms without a new observation. */
const LATENCY_HALF_LIFE_MS = 10_000;

/**
 * Load score of a backend (lower is better): the calls this replica has outstanding there, or the running
 * requests it reports if more (other replicas share it), plus its queue weighted double (a queued request
 * waits for all running ones), plus a penalty as its KV cache fills.
 */
export function loadScore(b: BackendState, fastestSecondsPerToken: number | null = null, now = Date.now()): number {
  return queueScore(b) + latencyPenalty(b, fastestSecondsPerToken, now);
}

/**
 * How much slower per token this backend has been than the fastest of the pool, as extra load: twice as slow
 * counts as one more request ahead. Catches queueing that no metric shows (or before the next scrape).
 */
function latencyPenalty(b: BackendState, fastest: number | null, now: number): number {
  if (fastest === null || b.secondsPerToken === null) return 0;
  const slower = (b.secondsPerToken + LATENCY_FLOOR_S) / (fastest + LATENCY_FLOOR_S) - 1;
  const fade = 0.5 ** (Math.max(0, now - b.latencyObservedAt) / LATENCY_HALF_LIFE_MS);
  return Math.min(MAX_LATENCY_PENALTY, Math.max(0, slower)) * fade;
}

function queueScore(b: BackendState): number {
  const q = b.queue;
  if (!q) return b.outstanding;
  const running = Math.max(b.outstanding, q.running);
  const kv = q.kvCacheUsage ?? 0;
  const kvPenalty = kv >= KV_PRESSURE_THRESHOLD ? 4 + 10 * kv : 2 * kv;
  return running + 2 * q.waiting + kvPenalty;
}

/**
 * Least outstanding requests, weighted by each backend's own queue metrics. Backends already tried for
 * this request are used only when nothing else is left; ties go to the backend that started fewer calls.
 */
export function chooseBackend(
  backends: ReadonlyArray<BackendState>,
  opts: { now: number; tried: ReadonlySet<string>; maxOutstanding: number },
): BackendState | undefined {
  const open = backends.filter((b) => b.available(opts.now) && b.outstanding < opts.maxOutstanding);
  const fresh = open.filter((b) => !opts.tried.has(b.id));
  const pool = fresh.length > 0 ? fresh : open;
  const observed = pool.map((b) => b.secondsPerToken).filter((v): v is number => v !== null);
  const fastest = observed.length > 0 ? Math.min(...observed) : null;
  let best: BackendState | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const b of pool) {
    const score = loadScore(b, fastest, opts.now);
    if (score < bestScore || (score === bestScore && best !== undefined && b.started < best.started)) {
      best = b;
      bestScore = score;
    }
  }
  return best;
}
