export interface TakeResult {
  readonly allowed: boolean;
  /** Whole seconds until one token is back (for Retry-After); 0 when allowed. */
  readonly retryAfterS: number;
  /** True on the first refusal after an allowed call: one audit event per flood, not one per request. */
  readonly floodStarted: boolean;
}

export interface BucketLimits {
  readonly perSecond: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
  limited: boolean;
  readonly limits: BucketLimits;
}

/**
 * Token buckets by key (the verified client id, or the source address before authentication), in this replica's
 * memory: `burst` calls at once, refilled at `perSecond` (per key when the client has its own limits). Idle full
 * buckets are dropped so the map stays as small as the set of active keys, and at most `maxKeys` are kept: the least
 * recently used is forgotten first (it starts again with a full bucket), so a flood of new keys cannot grow memory.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly defaults: BucketLimits,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = Number.POSITIVE_INFINITY,
  ) {}

  take(key: string, limits: BucketLimits = this.defaults): TakeResult {
    const now = this.now();
    let b = this.buckets.get(key);
    // A changed limit (registry reload) starts a fresh bucket.
    if (!b || b.limits.perSecond !== limits.perSecond || b.limits.burst !== limits.burst) {
      b = { tokens: limits.burst, updatedMs: now, limited: false, limits };
    }
    b.tokens = Math.min(limits.burst, b.tokens + ((now - b.updatedMs) / 1000) * limits.perSecond);
    b.updatedMs = now;
    // Map order is insertion order: re-inserting makes this the most recently used, the first key the least.
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.limited = false;
      return { allowed: true, retryAfterS: 0, floodStarted: false };
    }
    const floodStarted = !b.limited;
    b.limited = true;
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / limits.perSecond)), floodStarted };
  }

  /** Drops buckets that have refilled completely (nothing to remember). */
  sweep(): void {
    const now = this.now();
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.updatedMs) / 1000) * b.limits.perSecond >= b.limits.burst) this.buckets.delete(key);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
