import { Inject, Injectable } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@app/observability';
import { AuditWriter } from './audit-writer';

/**
 * The audit writer's queue as gauges on the app's registry, in every app that writes audit events (gateway,
 * cds-hooks, inference-proxy): the chart's "audit writer queue near full" alert reads depth / capacity.
 * Read at scrape time; no labels (one writer per process, Prometheus adds job and pod).
 */
@Injectable()
export class AuditWriterMetrics {
  constructor(@Inject(METRICS_REGISTRY) registry: Registry, audit: AuditWriter) {
    const registers = [registry];
    new Gauge({
      name: 'meditron_audit_queue_depth',
      help: 'Audit events accepted and not yet written to Postgres.',
      registers,
      collect() {
        this.set(audit.queued);
      },
    });
    new Gauge({
      name: 'meditron_audit_queue_capacity',
      help: 'Audit events that may be queued (AUDIT_QUEUE_MAX); beyond it new events are refused (AUDIT_QUEUE_FULL).',
      registers,
      collect() {
        this.set(audit.capacity);
      },
    });
  }
}
