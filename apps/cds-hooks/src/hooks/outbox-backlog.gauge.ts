import { Inject, Injectable, Logger } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { InferenceOutboxRepository } from '@app/database';
import { METRICS_REGISTRY } from '@app/observability';

/** A scrape waits at most this long for the count; past it (or on an error) the gauge keeps its last value. */
export const OUTBOX_BACKLOG_READ_MS = 1000;

/**
 * `meditron_cds_outbox_backlog`: inference requests committed but not yet taken by a broker (`inference_outbox`
 * rows). Near 0 in normal operation (a row lives from the hook's dispatch until the broker acknowledged it); it grows
 * while Kafka is unreachable, and falls as the outbox relay publishes the rows or records them expired. Read at each
 * scrape (one `count(*)` of a table that holds only undelivered rows).
 */
@Injectable()
export class OutboxBacklogGauge {
  private readonly logger = new Logger(OutboxBacklogGauge.name);
  private failing = false;

  constructor(outbox: InferenceOutboxRepository, @Inject(METRICS_REGISTRY) registry: Registry) {
    const gauge: Gauge = new Gauge({
      name: 'meditron_cds_outbox_backlog',
      help: 'Inference requests committed but not yet taken by a broker (inference_outbox rows); grows while Kafka is unreachable.',
      registers: [registry],
      collect: async () => {
        const n = await this.read(() => outbox.backlog());
        if (n !== undefined) gauge.set(n);
      },
    });
  }

  /** The count, or undefined when it could not be read in time (logged once per failing stretch). */
  async read(count: () => Promise<number>): Promise<number | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), OUTBOX_BACKLOG_READ_MS)));
    try {
      const n = await Promise.race([count(), late]);
      if (n === 'late') throw new Error(`no answer within ${OUTBOX_BACKLOG_READ_MS} ms`);
      this.failing = false;
      return n;
    } catch (e) {
      if (!this.failing) this.logger.warn(`outbox backlog not read: ${e instanceof Error ? e.message : 'error'}`);
      this.failing = true;
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
