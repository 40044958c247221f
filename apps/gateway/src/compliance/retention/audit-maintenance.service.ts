import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { AuditChainRepository } from '@app/database';
import { PeriodicTask } from '@app/timing';
import type { ComplianceConfig } from '../compliance.config';
import { errorKind } from '@app/observability';

/**
 * Keeps monthly audit partitions created ahead and, when enabled, drops months past retention. Runs at start and
 * then every AUDIT_MAINTENANCE_MS; replicas serialise on an advisory lock inside the purge. Both run as the
 * database owner's SECURITY DEFINER routines: the gateway's login cannot drop a partition by itself, nor purge
 * inside the legal minimum (audit_retention_policy).
 */
export class AuditMaintenance implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuditRetention');
  private readonly task: PeriodicTask;

  constructor(
    private readonly retention: AuditChainRepository,
    private readonly config: ComplianceConfig,
  ) {
    this.task = new PeriodicTask(config.AUDIT_MAINTENANCE_MS, () => this.run());
  }

  onModuleInit(): void {
    this.task.start();
  }

  /** Waits for a run in progress, so no purge is cut off by the database closing. */
  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  async run(): Promise<void> {
    try {
      const created = await this.retention.ensurePartitions(this.config.AUDIT_PARTITIONS_AHEAD);
      if (created > 0) this.logger.log(`created ${created} audit partitions`);
      if (!this.config.AUDIT_RETENTION_PURGE) return;
      const purge = await this.retention.purge(this.config.AUDIT_RETENTION_MONTHS);
      if (purge.partitions.length > 0) {
        this.logger.log(
          `purged ${purge.partitions.length} audit partitions before ${purge.cutoff} (${purge.partitions.reduce((n, p) => n + p.rows, 0)} rows)`,
        );
      }
    } catch (e) {
      this.logger.error(`audit maintenance failed: ${errorKind(e)}`);
    }
  }
}
