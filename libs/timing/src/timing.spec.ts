import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, pause, PeriodicTask } from '.';

describe('backoffMs', () => {
  it('doubles from the base up to the cap, and full jitter stays under the ceiling', () => {
    const policy = { baseMs: 100, maxMs: 1000, jitter: 'none' } as const;
    expect([1, 2, 3, 4, 5, 9].map((a) => backoffMs(a, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffMs(3, { ...policy, jitter: 'full' }, () => 0.5)).toBe(200);
    expect(backoffMs(3, { ...policy, jitter: 'full' }, () => 0)).toBe(0);
  });
});

/**
 * Waits until `done()` holds (polling every 5 ms), failing after `timeoutMs`: the tests never depend on how busy the
 * machine is.
 */
async function until(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

describe('PeriodicTask', () => {
  it('never runs two at once, and stop waits for the run in progress', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const task = new PeriodicTask(1, async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(15);
      runs++;
      active--;
    });
    task.start();
    // Three runs of 15 ms each at a 1 ms interval, however late the timers fire on a loaded machine.
    await until(() => runs >= 3);
    await task.stop();
    const after = runs;
    expect(active).toBe(0);
    expect(maxActive).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(3);
    await sleep(30);
    expect(runs).toBe(after);
  });

  it('keeps running after a failed run, and waits one interval first when not immediate', async () => {
    let calls = 0;
    const task = new PeriodicTask(
      10,
      () => {
        calls++;
        throw new Error('boom');
      },
      { immediate: false },
    );
    task.start();
    await sleep(5);
    expect(calls).toBe(0);
    // A run after the failed one: the task was not stopped by the error.
    await until(() => calls >= 2);
    await task.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});

describe('pause', () => {
  it('is true when the time runs out, false at once when the signal aborts (before or during the wait)', async () => {
    expect(await pause(1)).toBe(true);
    const aborted = new AbortController();
    aborted.abort();
    expect(await pause(10_000, aborted.signal)).toBe(false);
    const later = new AbortController();
    const started = Date.now();
    const waiting = pause(10_000, later.signal);
    setTimeout(() => later.abort(), 5);
    expect(await waiting).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
