import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { floorHour, type GovernanceRollupRepository } from '@app/database';
import { PeriodicTask } from '@app/timing';

/** An hour is rolled up once it closed this long ago: every hook call received in it has been answered by then. */
const SETTLE_MS = 10 * 60_000;
/** Hours per transaction while catching up (a fresh rollup over months of history). */
const CHUNK_HOURS = 24;

/**
 * Rolls closed hours up into `governance_hourly`, in order, behind a watermark (`governance_rollup_state`), then whole
 * days into `governance_daily` (GovernanceRollupRepository). One replica works at a time (transaction-scoped advisory
 * lock); a failed run is retried by the next.
 */
export class GovernanceRollup implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(GovernanceRollup.name);
  private readonly task: PeriodicTask;

  constructor(
    private readonly repo: GovernanceRollupRepository,
    intervalMs: number,
  ) {
    // Not at boot: embedded PGlite (npm start) trips over one more connection opening while the apps start.
    this.task = new PeriodicTask(intervalMs, () => this.run().then(() => undefined), { immediate: false });
  }

  onModuleInit(): void {
    this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  /** Rolls up every hour closed by `now` not rolled up yet; answers how many hours it rolled. */
  async run(now = new Date(), maxChunks = 200): Promise<number> {
    const target = floorHour(new Date(now.getTime() - SETTLE_MS));
    let rolled = 0;
    for (let i = 0; i < maxChunks; i++) {
      const hours = await this.repo.rollHours(target, CHUNK_HOURS);
      if (hours === 0) break;
      rolled += hours;
    }
    await this.repo.rollDays();
    if (rolled > 0) this.logger.log(`rolled up ${rolled} hours of governance figures`);
    return rolled;
  }
}
