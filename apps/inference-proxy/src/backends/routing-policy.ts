import type { BackendState } from './backend-state';

/** KV-cache use above this means the backend is about to queue or preempt: steer away hard. */
const KV_PRESSURE_THRESHOLD = 0.9;

/**
 * Load score of a backend (lower is better): the calls this replica has outstanding there, or the running
 * requests it reports if more (other replicas share it), plus its queue weighted double (a queued request
 * waits for all running ones), plus a penalty as its KV cache fills.
 */
export function loadScore(b: BackendState): number {
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
  let best: BackendState | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const b of pool) {
    const score = loadScore(b);
    if (score < bestScore || (score === bestScore && best !== undefined && b.started < best.started)) {
      best = b;
      bestScore = score;
    }
  }
  return best;
}
