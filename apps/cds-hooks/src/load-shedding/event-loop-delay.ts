import { monitorEventLoopDelay } from 'node:perf_hooks';

/** How often the delay window is read and reset. */
const WINDOW_MS = 500;

/**
 * Mean event-loop delay over the last window (ms): the process is too busy to answer in time when it is high,
 * whatever the count of calls in flight says (a CPU-bound replica, or one sharing its cores).
 */
export class EventLoopDelay {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });
  private timer: NodeJS.Timeout | undefined;
  private lastMs = 0;

  start(): void {
    if (this.timer) return;
    this.histogram.enable();
    this.timer = setInterval(() => {
      // The histogram counts the sampling resolution itself as delay: a quiet loop reads ~10 ms, so it is taken off.
      const mean = this.histogram.count > 0 ? this.histogram.mean / 1e6 - 10 : 0;
      this.lastMs = Math.max(0, mean);
      this.histogram.reset();
    }, WINDOW_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.histogram.disable();
  }

  /** Mean delay of the last full window, in ms (0 until the first window is read). */
  get currentMs(): number {
    return this.lastMs;
  }
}
