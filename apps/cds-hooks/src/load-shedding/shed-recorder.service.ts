import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AuditException, AuditWriter } from '@app/audit';
import { METRICS_REGISTRY } from '@app/observability';
import { AdmissionControl } from './admission-control.service';
import type { ShedReason } from './admission-gate';

/** Who a shed call was, as far as is known without reading its body (it may never be parsed). */
export interface ShedCall {
  /** A catalog id (LoadShedding serves calls behind KnownServiceGuard). */
  readonly serviceId: string;
  readonly clientId: string | null;
  readonly requestId: string | null;
  /** The body's hookInstance when it is a UUID (the body itself is not read: it may never be parsed). */
  readonly hookInstance: string | null;
}

/**
 * Records each shed call: `meditron_hooks_shed_total{service,reason}` (catalog ids and a closed reason set, no
 * patient data) and a `hook.shed` audit event (outcome `refused`, reason `shed`, the cause in detail). The event is
 * queued, not awaited: the point of shedding is to answer now; refusals have their own share of the audit queue.
 */
@Injectable()
export class ShedRecorder {
  private readonly logger = new Logger(ShedRecorder.name);
  private readonly shed: Counter<'service' | 'reason'>;

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly audit: AuditWriter,
    admission: AdmissionControl,
  ) {
    this.shed = new Counter({
      name: 'meditron_hooks_shed_total',
      help: 'Hook calls answered with no cards because the replica was over its limits or the budget ran out, by service id and reason.',
      labelNames: ['service', 'reason'],
      registers: [registry],
    });
    new Gauge({
      name: 'meditron_hooks_in_flight',
      help: 'Hook calls being worked on by this replica (HOOK_MAX_IN_FLIGHT bounds it).',
      registers: [registry],
      collect() {
        this.set(admission.inFlight);
      },
    });
  }

  record(call: ShedCall, reason: ShedReason): void {
    this.shed.inc({ service: call.serviceId, reason });
    this.audit
      .record({
        action: 'hook.shed',
        outcome: 'refused',
        service: 'cds-hooks',
        clientId: call.clientId,
        requestId: call.requestId,
        hookInstance: call.hookInstance,
        detail: { serviceId: call.serviceId, reason: 'shed', cause: reason },
      })
      .catch((e: unknown) =>
        this.logger.warn(`shed call not audited: ${e instanceof AuditException ? e.code : 'error'}`),
      );
  }
}
