import { Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { hotQuery } from '@app/database';
import { errorKind } from '@app/observability';
import { PeriodicTask } from '@app/timing';

export interface AuditInboxDrainerOptions {
  /** How often the inbox is drained (AUDIT_INBOX_DRAIN_MS). */
  readonly intervalMs: number;
  /** Events chained per statement; a full round drains again at once. */
  readonly maxRows: number;
  readonly registry: Registry;
}

const DRAIN_SQL = `SELECT audit_inbox_drain($1::int) AS moved`;

/**
 * Chains the audit inbox (migration 1764560000000) on a short period, in the process that writes it (the inference
 * proxy's result store), so one statement chains the events of every result stored since the last round. Each round
 * drains until a statement moves fewer than `maxRows`; with several replicas each drains, and they take turns at the
 * chain's lock. A round the chain refuses (-1: the drain left the inbox as it was, see the migration) is counted,
 * logged and retried next round; nothing is dropped. The inbox rows are durable in Postgres: a proxy that stops
 * between rounds leaves them for the next round of any proxy.
 */
export class AuditInboxDrainer implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditInbox');
  private readonly task: PeriodicTask;
  private readonly drained: Counter;
  private readonly refused: Counter;
  private readonly lastRound: Gauge;
  /** What was last logged: a state is logged when it begins, not every round while it lasts. */
  private state: 'ok' | 'refused' | 'failing' = 'ok';

  constructor(
    private readonly dataSource: DataSource,
    private readonly opts: AuditInboxDrainerOptions,
  ) {
    this.task = new PeriodicTask(opts.intervalMs, () => this.round(), { immediate: false });
    const registers = [opts.registry];
    this.drained = new Counter({
      name: 'meditron_audit_inbox_drained_total',
      help: 'Audit inbox events this process moved into the hash chain.',
      registers,
    });
    this.refused = new Counter({
      name: 'meditron_audit_inbox_refused_total',
      help: 'Drain rounds the audit chain refused (the inbox was left as it was); any is a fault to investigate.',
      registers,
    });
    this.lastRound = new Gauge({
      name: 'meditron_audit_inbox_last_round',
      help: 'Audit inbox events the last drain round found waiting: stays high when the inbox grows faster than it drains.',
      registers,
    });
  }

  onModuleInit(): void {
    this.task.start();
  }

  /** A last round at shutdown (best effort: what is left waits durable in the inbox for the next drain). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.task.stop();
    await this.drain().catch((e: unknown) => this.logger.warn(`last audit inbox drain failed: ${errorKind(e)}`));
  }

  /**
   * Drains until a statement moves fewer than maxRows; resolves with how many events it chained. Rejects when the
   * database does (the next round retries); a refusal by the chain is counted and logged, not thrown.
   */
  async drain(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const rows = await hotQuery<{ moved: number }>(this.dataSource, DRAIN_SQL, [this.opts.maxRows]);
        const moved = rows[0]?.moved ?? 0;
        if (moved < 0) {
          this.refused.inc();
          this.report('refused', () =>
            this.logger.error(
              'the audit chain refused an inbox event: the inbox is kept and retried (see the database log)',
            ),
          );
          return total;
        }
        total += moved;
        if (moved < this.opts.maxRows) break;
      }
      this.report('ok', () => this.logger.log('audit inbox drains again'));
      return total;
    } finally {
      this.drained.inc(total);
      this.lastRound.set(total);
    }
  }

  /** One scheduled round: a database outage is logged when it starts, not every `intervalMs` while it lasts. */
  private async round(): Promise<void> {
    await this.drain().catch((e: unknown) =>
      this.report('failing', () => this.logger.warn(`audit inbox drain failed: ${errorKind(e)}; retried every round`)),
    );
  }

  /** Logs (once) when the drain's state changes. */
  private report(state: 'ok' | 'refused' | 'failing', log: () => void): void {
    if (state === this.state) return;
    this.state = state;
    log();
  }
}
