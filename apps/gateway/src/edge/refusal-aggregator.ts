import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AuditException, AuditExceptionCode, AuditWriter, type AuditRecord } from '@app/audit';
import { PeriodicTask } from '@app/timing';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { GatewayMetrics } from './gateway-metrics.service';
import { RefusalWindows, truncatePath, type RefusalNotice, type RefusalWindow } from './refusal-windows';

export const REFUSAL_CLOCK = Symbol('REFUSAL_CLOCK');

type Sample = RefusalWindow['sample'];

/**
 * The gateway's refusals into the audit trail, aggregated: per (source, action, reason, client) and window, the
 * first refusal is one event at once (with its request id), the rest of the window one event holding their count.
 * Paths are truncated. Its events hold at most EDGE_REFUSAL_AUDIT_BUDGET places in the audit writer's queue:
 * beyond that a refusal is only counted (metric, and folded into the next aggregate), so a flood of refusals can
 * never fill the queue the compliance API's and the hooks' own events need. Open windows are written at shutdown.
 */
@Injectable()
export class RefusalAggregator implements OnModuleDestroy {
  private readonly logger = new Logger(RefusalAggregator.name);
  private readonly windows: RefusalWindows;
  private readonly budget: number;
  private readonly flusher: PeriodicTask;
  /** Events handed to the writer and not yet settled (stalled ones included). */
  private inflight = 0;
  /** Released by the writer's wait limit but still in its queue: their places free once the queue has drained. */
  private stalled = 0;
  private closed = false;

  constructor(
    private readonly audit: AuditWriter,
    private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(REFUSAL_CLOCK) private readonly now: () => number,
  ) {
    this.windows = new RefusalWindows(config.EDGE_REFUSAL_WINDOW_MS, config.EDGE_REFUSAL_MAX_PENDING);
    this.budget = config.EDGE_REFUSAL_AUDIT_BUDGET;
    const every = Math.max(100, Math.floor(config.EDGE_REFUSAL_WINDOW_MS / 4));
    this.flusher = new PeriodicTask(every, () => this.flushDue(), { immediate: false, name: 'refusal flush' });
    this.flusher.start();
  }

  /** Resolves once the refusal's own event is committed, or at once when it was only counted. Never rejects. */
  async record(n: RefusalNotice): Promise<void> {
    if (this.closed) {
      // Between shutdown's flush and the listener closing: written one by one, as long as the budget allows.
      if (this.inflight >= this.budget) return this.lost(1, n.reason);
      this.metrics.refusalAudit('recorded');
      return this.emit(this.eventOf({ ...n, count: 1 }), 1, n);
    }
    const { w, opened, overflowed } = this.windows.windowOf(n, this.now());
    if (!opened) {
      w.count++;
      this.metrics.refusalAudit(overflowed ? 'overflow' : 'aggregated');
      return;
    }
    if (this.inflight >= this.budget) {
      w.count++;
      this.metrics.refusalAudit('over_budget');
      return;
    }
    this.metrics.refusalAudit('recorded');
    return this.emit(this.eventOf({ ...n, count: 1 }), 1, w.sample);
  }

  /** Writes the windows that have ended (each as one event with its count), as far as the budget allows. */
  async flushDue(): Promise<void> {
    // The writer commits in order: an empty queue means everything stalled in it has been settled.
    if (this.stalled > 0 && this.audit.queued === 0) {
      this.inflight -= this.stalled;
      this.stalled = 0;
    }
    const writes: Promise<void>[] = [];
    for (const w of this.windows.close(this.now())) {
      if (this.inflight >= this.budget) {
        this.fold(w.sample, w.count); // into the next window: counted, not lost
        continue;
      }
      writes.push(this.emit(this.aggregateOf(w), w.count, w.sample));
    }
    await Promise.all(writes);
  }

  /** Before the audit writer closes (its beforeApplicationShutdown): every open window is written, budget or not. */
  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    await this.flusher.stop();
    await Promise.all(
      this.windows.close(this.now(), true).map((w) => this.emit(this.aggregateOf(w), w.count, w.sample)),
    );
  }

  private emit(event: AuditRecord, count: number, sample: Sample): Promise<void> {
    this.inflight++;
    return this.audit.record(event).then(
      () => {
        this.inflight--;
      },
      (e: unknown) => {
        if (e instanceof AuditException && e.code === AuditExceptionCode.WRITE_TIMEOUT) {
          this.stalled++; // still queued and still written; its place stays taken until the queue drains
          return;
        }
        this.inflight--;
        this.fold(sample, count);
      },
    );
  }

  /** Counts that an event failed to carry go back into the open window of their key. */
  private fold(sample: Sample, count: number): void {
    if (this.closed) {
      this.lost(count, sample.reason);
      return;
    }
    this.windows.windowOf(sample, this.now()).w.count += count;
  }

  private lost(count: number, reason: string): void {
    this.metrics.refusalAudit('lost', count);
    this.logger.error(`${count} refusal(s) ${reason} not audited: the audit writer refused them at shutdown`);
  }

  private eventOf(n: Omit<RefusalNotice, 'requestId'> & { requestId?: string | null; count: number }): AuditRecord {
    return {
      action: n.action,
      outcome: 'refused',
      service: 'gateway',
      actor: n.actor,
      clientId: n.clientId,
      tenant: n.tenant,
      requestId: n.requestId ?? null,
      detail: {
        reason: n.reason,
        source: n.source,
        method: n.method.slice(0, 16),
        path: truncatePath(n.path),
        count: n.count,
      },
    };
  }

  private aggregateOf(w: RefusalWindow): AuditRecord {
    const event = this.eventOf({ ...w.sample, count: w.count });
    return {
      ...event,
      detail: {
        ...event.detail,
        aggregated: true,
        windowStart: new Date(w.startedMs).toISOString(),
        windowEnd: new Date(Math.min(w.endsMs, this.now())).toISOString(),
      },
    };
  }
}
