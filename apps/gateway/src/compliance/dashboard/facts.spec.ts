import { Facts } from './facts';

describe('Facts', () => {
  it('reads percentiles from 5% log buckets within 2.5% of the exact value', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => 10 + i * 3.7);
    const counts = new Map<number, number>();
    for (const ms of samples) {
      const b = Math.floor(Math.log(Math.max(ms, 1)) / Math.log(1.05));
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    const f = new Facts([...counts].map(([b, n]) => ({ metric: 'hook_ms', label: String(b), n })));
    const [p50, p95, p99] = f.percentiles('hook_ms');
    const exact = (p: number) => samples[Math.ceil(p * samples.length) - 1]!;
    expect(Math.abs(Number(p50) - exact(0.5)) / exact(0.5)).toBeLessThan(0.025);
    expect(Math.abs(Number(p95) - exact(0.95)) / exact(0.95)).toBeLessThan(0.025);
    expect(Math.abs(Number(p99) - exact(0.99)) / exact(0.99)).toBeLessThan(0.025);
    expect(f.percentiles('run_ms')).toEqual([null, null, null]);
  });

  it('tables one metric by label, or by count largest first', () => {
    const f = new Facts([
      { metric: 'override', label: 'b', n: 1 },
      { metric: 'override', label: 'a', n: 5 },
      { metric: 'card', label: 'warning', n: 2 },
    ]);
    expect(f.table('t', 'override', ['reason', 'n']).rows).toEqual([
      ['a', 5],
      ['b', 1],
    ]);
    expect(f.table('t', 'override', ['reason', 'n'], true).rows[0]).toEqual(['a', 5]);
    expect(f.get('card', 'warning')).toBe(2);
    expect(f.get('card', 'info')).toBe(0);
  });
});
