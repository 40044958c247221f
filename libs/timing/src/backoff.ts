export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /**
   * `full` (AWS "full jitter"): a random delay up to the exponential ceiling, so many retriers do not stampede;
   * `none`: the ceiling itself, for a single writer retrying its own queue.
   */
  readonly jitter: 'full' | 'none';
}

/** The delay before retry `attempt` (1-based): min(maxMs, baseMs × 2^(attempt−1)), jittered by the policy. */
export function backoffMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return policy.jitter === 'full' ? Math.floor(random() * ceiling) : ceiling;
}
