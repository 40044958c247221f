import { TokenBuckets } from './token-buckets';

describe('TokenBuckets', () => {
  it('allows a burst, refuses with Retry-After, refills over time, per key', () => {
    let now = 0;
    const buckets = new TokenBuckets({ perSecond: 2, burst: 2 }, () => now);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a')).toEqual({ allowed: false, retryAfterS: 1, floodStarted: true });
    expect(buckets.take('a').floodStarted).toBe(false);
    expect(buckets.take('b').allowed).toBe(true);
    now = 500;
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('slow', { perSecond: 0.1, burst: 1 }).allowed).toBe(true);
    expect(buckets.take('slow', { perSecond: 0.1, burst: 1 }).retryAfterS).toBe(10);
    now = 60_000;
    buckets.sweep();
    expect(buckets.size).toBe(0);
  });

  it('keeps at most maxKeys buckets, forgetting the least recently used', () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1 }, () => 0, 2);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('b').allowed).toBe(true);
    expect(buckets.take('a').allowed).toBe(false); // a is now the most recently used
    expect(buckets.take('c').allowed).toBe(true); // evicts b
    expect(buckets.size).toBe(2);
    expect(buckets.take('a').allowed).toBe(false); // still remembered
    expect(buckets.take('b').allowed).toBe(true); // forgotten: a fresh bucket (evicts c)
    expect(buckets.size).toBe(2);
  });
});
