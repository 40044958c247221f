import { Logger } from '@nestjs/common';
import type { BackendState } from './backend-state';
import { poolContextTokens } from './backend-facts';
import { probeBackend } from './backend-probe';
import { PeriodicTask } from '@app/timing';

/**
 * Active health checks: `/health` must answer 2xx and the backend must describe itself (vLLM: the served
 * model listed in `/v1/models`; TGI: `/info`). A failing probe ejects the backend from routing; the first
 * passing one brings it back. What it reports (limits, TGI version) is kept for request shaping and budgets.
 */
export class BackendHealth {
  private readonly logger = new Logger(BackendHealth.name);
  private readonly task: PeriodicTask;

  constructor(
    private readonly backends: ReadonlyArray<BackendState>,
    intervalMs: number,
    private readonly timeoutMs: number,
    /** The model name requests use; vLLM must list it. Unset: any listed model will do. */
    private readonly servedModel?: string,
    /** What prompts are budgeted for (the profile's context and answer), to warn when a backend takes less. */
    private readonly budgetedFor?: { contextTokens: number; maxOutputTokens: number },
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

  /** Probes one backend now (a newly discovered engine is routed to once this passes). */
  probeOne(b: BackendState): Promise<void> {
    return this.probe(b);
  }

  private async probe(b: BackendState): Promise<void> {
    const result = await probeBackend(b.target, this.servedModel, this.timeoutMs);
    const ok = result.ok;
    if (result.ok) this.learn(b, result.facts);
    // A passing probe does not end a cooldown: a backend answers /health while it sheds load.
    if (ok === b.healthy) return;
    if (ok) {
      this.logger.log(`backend ${b.id} passed its health probe; readmitted`);
      b.readmit();
    } else {
      this.logger.warn(`backend ${b.id} failed its health probe (${result.reason}); ejected`);
      b.healthy = false;
    }
  }

  private learn(b: BackendState, facts: NonNullable<BackendState['facts']>): void {
    const before = b.facts;
    b.facts = facts;
    if (
      before !== null &&
      before.maxInputTokens === facts.maxInputTokens &&
      before.maxTotalTokens === facts.maxTotalTokens
    )
      return;
    const context = poolContextTokens([facts], this.budgetedFor?.maxOutputTokens ?? 0);
    if (context === null) {
      this.logger.warn(`backend ${b.id} reports no context limit; prompt budgets fall back to the profile's`);
      return;
    }
    if (this.budgetedFor && context < this.budgetedFor.contextTokens)
      this.logger.warn(
        `backend ${b.id} takes ${context} tokens of context but prompts are budgeted for ${this.budgetedFor.contextTokens}: long prompts will fail as input_too_long`,
      );
  }
}
