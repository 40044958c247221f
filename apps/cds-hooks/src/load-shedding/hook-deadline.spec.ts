import { hookDeadline, UPSTREAM_MARGIN_MS } from './hook-deadline';

describe('hookDeadline', () => {
  it('is the budget from arrival when the gateway waits longer or says nothing usable', () => {
    expect(hookDeadline(1000, 4000, undefined)).toBe(5000);
    expect(hookDeadline(1000, 4000, '8000')).toBe(5000);
    expect(hookDeadline(1000, 4000, 'soon')).toBe(5000);
    expect(hookDeadline(1000, 4000, '-5')).toBe(5000);
  });

  it('comes before the gateway gives up when the gateway waits less than the budget', () => {
    expect(hookDeadline(1000, 10_000, '3000')).toBe(1000 + 3000 - UPSTREAM_MARGIN_MS);
    expect(hookDeadline(1000, 10_000, ['2000', '9000'])).toBe(1000 + 2000 - UPSTREAM_MARGIN_MS);
    expect(hookDeadline(1000, 10_000, '100')).toBe(1000);
  });
});
