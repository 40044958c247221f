// The soak's memory verdict (bench/lib/memory-trend.ts): specced here because the unit-test roots leave bench/ out.
import { memoryTrend, type RssSample } from '../../bench/lib/memory-trend';

/** Ten minutes of samples every 5 s, RSS in MB given by `mb(s)`. */
function soak(mb: (s: number) => number): RssSample[] {
  return Array.from({ length: 121 }, (_, i) => ({ s: i * 5, rssMb: { app: mb(i * 5) } }));
}

describe('memoryTrend', () => {
  it('flags an app that keeps growing: a leak shows in the second half as in the whole', () => {
    const t = memoryTrend(
      soak((s) => 150 + (2 * s) / 60),
      'app',
      1,
    );
    expect(t.slopeMbPerMin).toBeCloseTo(2, 5);
    expect(t.lastHalfSlopeMbPerMin).toBeCloseTo(2, 5);
    expect(t.growing).toBe(true);
  });

  it('does not flag a plateau reached in the first half (caches filling to their bounds); reports the whole slope', () => {
    // 174 MB rising to 192 MB by minute 4, then flat: the soak of 2026-11-30 18:44 (cds-hooks).
    const t = memoryTrend(
      soak((s) => (s < 240 ? 174 + (18 * s) / 240 : 192)),
      'app',
      1,
    );
    expect(t.slopeMbPerMin).toBeGreaterThan(1);
    expect(t.lastHalfSlopeMbPerMin).toBe(0);
    expect(t.growing).toBe(false);
    expect([t.first, t.last, t.max]).toEqual([174, 192, 192]);
  });

  it('flags growth that starts late, which the whole slope would dilute', () => {
    const t = memoryTrend(
      soak((s) => (s < 300 ? 160 : 160 + (3 * (s - 300)) / 60)),
      'app',
      1,
    );
    expect(t.lastHalfSlopeMbPerMin).toBeCloseTo(3, 5);
    expect(t.growing).toBe(true);
  });

  it('ignores samples of other apps and an app that was not sampled', () => {
    const samples: RssSample[] = [
      { s: 0, rssMb: { other: 500 } },
      { s: 5, rssMb: { other: 900 } },
    ];
    expect(memoryTrend(samples, 'app', 1)).toEqual({
      first: 0,
      last: 0,
      max: 0,
      slopeMbPerMin: 0,
      lastHalfSlopeMbPerMin: 0,
      growing: false,
    });
  });
});
