import { PartitionOffsets } from './partition-offsets';

describe('PartitionOffsets', () => {
  it('commits only up to the lowest offset still in progress', () => {
    const p = new PartitionOffsets();
    for (const o of ['10', '11', '12']) expect(p.begin(o)).toBe(true);
    p.complete('11');
    p.complete('12');
    expect(p.committable()).toBe('10');
    p.committedAt('10');
    expect(p.committable()).toBeUndefined();
    p.complete('10');
    expect(p.committable()).toBe('13');
  });

  it('refuses an offset it already handed out (a re-fetch after a rebalance)', () => {
    const p = new PartitionOffsets();
    expect(p.begin('5')).toBe(true);
    expect(p.begin('5')).toBe(false);
    p.complete('5');
    expect(p.begin('5')).toBe(false);
    expect(p.begin('6')).toBe(true);
  });
});
