import { Logger } from '@nestjs/common';

export interface PeriodicTaskOptions {
  /** Run once at start (default), or first after one interval like setInterval. */
  readonly immediate?: boolean;
  /** Named in the log line when a run fails (the task's own errors are otherwise swallowed). */
  readonly name?: string;
}

/**
 * Runs an async task every `intervalMs`, never two at once (a slow run delays the next one instead of piling up).
 * The one way this codebase runs background work on a timer. Timers are unref'd so they never keep a process
 * alive; stop() waits for a run in progress.
 */
export class PeriodicTask {
  private readonly logger = new Logger(PeriodicTask.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void> | void,
    private readonly opts: PeriodicTaskOptions = {},
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.opts.immediate === false ? this.intervalMs : 0);
  }

  /** Runs the task now, or joins the run in progress. */
  async runNow(): Promise<void> {
    this.running ??= Promise.resolve()
      .then(this.task)
      .finally(() => (this.running = undefined));
    await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runNow()
        .catch((e: unknown) => {
          if (this.opts.name) this.logger.warn(`${this.opts.name} failed: ${e instanceof Error ? e.name : 'error'}`);
        })
        .then(() => this.schedule(this.intervalMs));
    }, delay);
    this.timer.unref();
  }
}
