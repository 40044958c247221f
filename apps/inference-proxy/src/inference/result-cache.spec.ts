import { ResultCache } from './result-cache';
import { RequestCoalescer } from './request-coalescer';

describe('ResultCache', () => {
  it('expires entries after the TTL and evicts the least recently used', () => {
    let now = 0;
    const cache = new ResultCache<string>(100, 2, () => now);
    cache.set('a', 'A');
    cache.set('b', 'B');
    expect(cache.get('a')).toBe('A'); // a is now the most recent
    cache.set('c', 'C');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    now = 100;
    expect(cache.get('a')).toBeUndefined();
  });

  it('stores nothing with a TTL of 0', () => {
    const cache = new ResultCache<string>(0, 10);
    cache.set('a', 'A');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe('RequestCoalescer', () => {
  it('makes one call for identical requests in flight and shares its answer', async () => {
    const coalescer = new RequestCoalescer<number>();
    let calls = 0;
    let finish: (v: number) => void = () => undefined;
    const call = (): Promise<number> => {
      calls += 1;
      return new Promise<number>((r) => (finish = r));
    };
    const runs = [coalescer.run('k', call), coalescer.run('k', call), coalescer.run('k', call)];
    finish(42);
    const out = await Promise.all(runs);
    expect(calls).toBe(1);
    expect(out.map((o) => o.value)).toEqual([42, 42, 42]);
    expect(out.filter((o) => o.shared)).toHaveLength(2);
    expect(coalescer.size).toBe(0);
  });
});
