import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { errorKind } from '@app/observability';
import { PeriodicTask } from '@app/timing';
import type { SharedChainVerifier } from './shared-chain-verifier.service';

/** What the schedule needs of the verifier: one shared walk. */
type ChainWalker = Pick<SharedChainVerifier, 'run'>;

/**
 * Walks the audit chain every AUDIT_CHAIN_VERIFY_MS (0: only when asked through the compliance API), so a break
 * raises the alert on `meditron_audit_chain_broken` without anyone looking. The first walk waits one interval:
 * a rollout does not start a full walk on every replica at once.
 */
export class ChainVerificationSchedule implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuditChainVerification');
  private readonly task: PeriodicTask | undefined;

  constructor(verifier: ChainWalker, intervalMs: number) {
    if (intervalMs > 0) this.task = new PeriodicTask(intervalMs, () => this.walk(verifier), { immediate: false });
  }

  onModuleInit(): void {
    this.task?.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task?.stop() ?? Promise.resolve();
  }

  private async walk(verifier: ChainWalker): Promise<void> {
    try {
      const result = await verifier.run();
      if (!result.valid) this.logger.error(`audit chain broken (${result.rowsChecked} rows checked)`);
    } catch (e) {
      this.logger.warn(`audit chain verification failed: ${errorKind(e)}`);
    }
  }
}
