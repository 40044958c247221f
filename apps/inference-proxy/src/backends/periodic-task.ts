/**
 * Runs an async task every `intervalMs`, never two at once (a slow probe delays the next one instead of
 * piling up). Timers are unref'd so they never keep a process alive.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Runs the task now (tests, and the first probe at boot). */
  async runNow(): Promise<void> {
    this.running ??= this.task().finally(() => (this.running = undefined));
    await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runNow()
        .catch(() => undefined)
        .then(() => this.schedule(this.intervalMs));
    }, delay);
    this.timer.unref();
  }
}
