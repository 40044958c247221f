import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Gauge, register as defaultRegistry, type Registry } from 'prom-client';
import type { AuditChainHead, AuditChainRepository, AuditCheckpoint } from '@app/database';
import { PeriodicTask } from '@app/timing';
import { errorKind } from '@app/observability';
import { signCheckpoint, type CheckpointSigningKey } from './audit-checkpoint.keys';
import type { CheckpointSink } from './audit-checkpoint.sink';

export interface ChainHeadPublisherOptions {
  readonly intervalMs: number;
  readonly registry?: Registry;
  /** Signs a checkpoint of the head each round and at shutdown; without it the head is only logged. */
  readonly signingKey?: CheckpointSigningKey;
  /** Where each checkpoint is also sent, outside the database. */
  readonly sink?: CheckpointSink;
}

export interface PublishedHead {
  readonly head: AuditChainHead;
  /** The checkpoint signed this round; null without a key, on an empty chain, or when nothing moved. */
  readonly checkpoint: AuditCheckpoint | null;
}

/**
 * Publishes the chain head regularly (a log line with the full hash, and gauges) and, with a signing key, a signed
 * checkpoint of it (table row, log line, external sink), so it is anchored outside the database: a rewrite by
 * whoever can write the tables is detected up to the last checkpoint held elsewhere.
 * The gauges carry no labels (no patient data, no unbounded label values).
 */
export class ChainHeadPublisher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuditChain');
  private readonly headId: Gauge;
  private readonly headHashPrefix: Gauge;
  private readonly task: PeriodicTask;
  private lastSigned: string | null = null;

  constructor(
    private readonly repo: AuditChainRepository,
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
    if (!this.opts.signingKey) {
      this.logger.warn(
        'audit chain checkpoints are not signed (no AUDIT_CHECKPOINT_KEY_FILE): the head is only logged',
      );
    }
    this.task.start();
  }

  /** A last checkpoint at shutdown, so the head this replica saw last is anchored too. */
  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
    if (this.opts.signingKey) await this.publish().catch(() => undefined);
  }

  async publish(): Promise<PublishedHead> {
    try {
      const head = await this.repo.head();
      this.headId.set(head.lastId === null ? 0 : Number(head.lastId));
      this.headHashPrefix.set(parseInt(head.lastHash.slice(0, 12), 16));
      this.logger.log(`audit chain head id=${head.lastId ?? 'none'} hash=${head.lastHash}`);
      return { head, checkpoint: await this.checkpoint(head) };
    } catch (e) {
      this.logger.error(`audit chain head not readable: ${errorKind(e)}`);
      throw e;
    }
  }

  private async checkpoint(head: AuditChainHead): Promise<AuditCheckpoint | null> {
    const key = this.opts.signingKey;
    if (!key || head.lastId === null || this.lastSigned === `${head.lastId}:${head.lastHash}`) return null;
    const c = signCheckpoint({ ...head, lastId: head.lastId }, key, new Date());
    await this.repo.insertCheckpoint(c);
    this.lastSigned = `${head.lastId}:${head.lastHash}`;
    this.logger.log(
      `audit checkpoint key=${c.keyId} head_id=${c.headId} head_hash=${c.headHash} signed_at=${c.signedAt} signature=${c.signature}`,
    );
    if (this.opts.sink) {
      try {
        await this.opts.sink.append(c);
      } catch (e) {
        // The table row and the log line stand; verification counts the row as not in the sink.
        this.logger.error(`audit checkpoint not written to the ${this.opts.sink.kind} sink: ${errorKind(e)}`);
      }
    }
    return c;
  }
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Gauge ? existing : new Gauge({ name, help, registers: [registry] });
}
