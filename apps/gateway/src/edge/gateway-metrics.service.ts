import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@app/observability';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
/** Reason codes are constants in code (AuthRefusalCode, rate_limited, ...); anything else is folded, never echoed. */
const REASON_CODE = /^[a-z_]{1,40}$/;
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The gateway's HTTP metrics. Labels come from closed sets only: the route template Express matched (never the raw
 * path, which can carry a patient or service id), the method, the status code and refusal reason codes.
 */
@Injectable()
export class GatewayMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly refusals: Counter<'reason' | 'status'>;
  private readonly refusalAudits: Counter<'outcome'>;
  private readonly connectionsRefused: Counter;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'meditron_gateway_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'meditron_gateway_http_request_duration_seconds',
      help: 'From request received to response finished, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.refusals = new Counter({
      name: 'meditron_gateway_refusals_total',
      help: 'Callers turned away (authentication, authorisation, rate limit), by reason code and status.',
      labelNames: ['reason', 'status'],
      registers,
    });
    this.refusalAudits = new Counter({
      name: 'meditron_gateway_refusal_audit_total',
      help:
        'Refusals by how the audit trail holds them: recorded (an event of its own), aggregated (counted in its ' +
        'window), over_budget (the refusal share of the audit queue was full; counted in its window), overflow ' +
        '(the window table was full; counted per reason), lost (the writer refused them at shutdown).',
      labelNames: ['outcome'],
      registers,
    });
    this.connectionsRefused = new Counter({
      name: 'meditron_gateway_connections_refused_total',
      help: 'Connections closed at once because their source already had EDGE_MAX_CONNECTIONS_PER_SOURCE open.',
      registers,
    });
  }

  /** `route` is the matched template (e.g. `/cds-services/:id`) or undefined when no route matched. */
  requestFinished(method: string, route: string | undefined, status: number, seconds: number): void {
    const labels = {
      method: METHODS.has(method) ? method : 'other',
      route: route ?? 'unmatched',
      status: statusLabel(status),
    };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }

  refused(reason: string, status: number): void {
    this.refusals.inc({ reason: REASON_CODE.test(reason) ? reason : 'other', status: statusLabel(status) });
  }

  refusalAudit(outcome: 'recorded' | 'aggregated' | 'over_budget' | 'overflow' | 'lost', count = 1): void {
    this.refusalAudits.inc({ outcome }, count);
  }

  connectionRefused(): void {
    this.connectionsRefused.inc();
  }
}

function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other';
}
