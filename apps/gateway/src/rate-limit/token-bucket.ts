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
 * Token buckets by key (the verified client id), in this replica's memory: `burst` calls at once, refilled at
 * `perSecond` (per key when the client has its own limits). Idle full buckets are dropped so the map stays as small as the set of active clients.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly defaults: BucketLimits,
    private readonly now: () => number = Date.now,
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
    this.buckets.set(key, b);
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
