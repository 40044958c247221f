import { Logger } from '@nestjs/common';
import type { BackendState } from './backend-state';
import { backendRoot } from './backend-root';
import { PeriodicTask } from './periodic-task';

export interface HealthListener {
  healthChanged(backendId: string, healthy: boolean): void;
}

/**
 * Active health checks: `/health` must answer 2xx and `/v1/models` must list something. A failing probe
 * ejects the backend from routing; the first passing one brings it back.
 */
export class BackendHealth {
  private readonly logger = new Logger(BackendHealth.name);
  private readonly task: PeriodicTask;

  constructor(
    private readonly backends: ReadonlyArray<BackendState>,
    intervalMs: number,
    private readonly timeoutMs: number,
    private readonly listener?: HealthListener,
  ) {
    this.task = new PeriodicTask(intervalMs, () => this.probeAll());
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  probeAll(): Promise<void> {
    return Promise.all(this.backends.map((b) => this.probe(b))).then(() => undefined);
  }

  private async probe(b: BackendState): Promise<void> {
    const ok = await this.passes(b);
    // A passing probe does not end a cooldown: vLLM answers /health while it sheds load with 503s.
    if (ok === b.healthy) return;
    if (ok) {
      this.logger.log(`backend ${b.id} passed its health probe; readmitted`);
      b.readmit();
    } else {
      this.logger.warn(`backend ${b.id} failed its health probe; ejected`);
      b.healthy = false;
    }
    this.listener?.healthChanged(b.id, b.healthy);
  }

  private async passes(b: BackendState): Promise<boolean> {
    const root = backendRoot(b.target);
    try {
      const health = await fetch(`${root}/health`, { signal: AbortSignal.timeout(this.timeoutMs) });
      await health.body?.cancel();
      if (!health.ok) return false;
      const models = await fetch(`${b.target.baseUrl}/models`, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!models.ok) {
        await models.body?.cancel();
        return false;
      }
      const body = (await models.json()) as { data?: unknown };
      return Array.isArray(body.data) && body.data.length > 0;
    } catch {
      return false;
    }
  }
}
