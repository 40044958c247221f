import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Gauge, register as defaultRegistry, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { PeriodicTask } from '@app/timing';
import { readChainHead, type AuditChainHead } from './audit-chain-head';
import { errorKind } from '@app/observability';

export interface ChainHeadPublisherOptions {
  readonly intervalMs: number;
  readonly registry?: Registry;
}

/**
 * Publishes the chain head regularly (a log line with the full hash, and gauges) so it can be anchored outside
 * the database: a log archive or a scraper holding old heads proves later rows did not rewrite earlier ones.
 * The gauges carry no labels (no patient data, no unbounded label values).
 */
export class ChainHeadPublisher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuditChain');
  private readonly headId: Gauge;
  private readonly headHashPrefix: Gauge;
  private readonly task: PeriodicTask;

  constructor(
    private readonly ds: DataSource,
    private readonly opts: ChainHeadPublisherOptions,
  ) {
    // publish() logs its own failures.
    this.task = new PeriodicTask(opts.intervalMs, () => this.publish().then(() => undefined));
    const registry = opts.registry ?? defaultRegistry;
    this.headId = gauge(
      registry,
      'meditron_audit_chain_head_id',
      'Id of the newest audit_events row in the hash chain',
    );
    this.headHashPrefix = gauge(
      registry,
      'meditron_audit_chain_head_hash_prefix',
      'First 48 bits of the chain head hash, as an integer (the full hash is in the log line)',
    );
  }

  onModuleInit(): void {
    this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  async publish(): Promise<AuditChainHead> {
    try {
      const head = await readChainHead(this.ds);
      this.headId.set(head.lastId === null ? 0 : Number(head.lastId));
      this.headHashPrefix.set(parseInt(head.lastHash.slice(0, 12), 16));
      this.logger.log(`audit chain head id=${head.lastId ?? 'none'} hash=${head.lastHash}`);
      return head;
    } catch (e) {
      this.logger.error(`audit chain head not readable: ${errorKind(e)}`);
      throw e;
    }
  }
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Gauge ? existing : new Gauge({ name, help, registers: [registry] });
}
