import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { AuditException, AuditExceptionCode, type AuditRecord, type AuditWriter } from '@app/audit';
import { loadGatewayConfig } from '../gateway.config';
import { GatewayMetrics } from './gateway-metrics.service';
import { RefusalAggregator } from './refusal-aggregator';
import type { RefusalNotice } from './refusal-windows';

/** The audit writer's public surface with a bounded queue whose commits the test releases by hand. */
class HeldWriter {
  readonly pending: Array<{ event: AuditRecord; resolve(): void; reject(e: Error): void }> = [];
  readonly written: AuditRecord[] = [];
  closed = false;

  constructor(public maxQueue: number) {}

  get queued(): number {
    return this.pending.length;
  }

  record(event: AuditRecord): Promise<void> {
    if (this.closed) return Promise.reject(new AuditException(AuditExceptionCode.WRITER_CLOSED, 'closed'));
    if (this.pending.length >= this.maxQueue) {
      return Promise.reject(new AuditException(AuditExceptionCode.QUEUE_FULL, 'full'));
    }
    return new Promise((resolve, reject) => this.pending.push({ event, resolve, reject }));
  }

  /** Commits what is queued until `work` is done. */
  async commitUntil(work: Promise<void>): Promise<void> {
    let done = false;
    void work.finally(() => (done = true));
    while (!done) {
      await this.commitAll();
      await new Promise((r) => setImmediate(r));
    }
    await work;
  }

  /** Commits everything queued (and what those commits queue in turn). */
  async commitAll(): Promise<void> {
    while (this.pending.length > 0) {
      for (const p of this.pending.splice(0)) {
        this.written.push(p.event);
        p.resolve();
      }
      await new Promise((r) => setImmediate(r));
    }
  }
}

const refusal = (source: string, reason = 'missing_token'): RefusalNotice => ({
  action: 'auth.refused',
  reason,
  source,
  clientId: null,
  tenant: null,
  actor: null,
  requestId: `req-${source}`,
  method: 'POST',
  path: '/cds-services/x',
});

const counted = (events: AuditRecord[]) => events.reduce((n, e) => n + Number(e.detail?.['count'] ?? 0), 0);

describe('RefusalAggregator', () => {
  let now = 0;
  let registry: Registry;
  let started: Array<{ a: RefusalAggregator; writer: HeldWriter }> = [];

  beforeAll(() => Logger.overrideLogger(false));
  afterEach(async () => {
    for (const { a, writer } of started) await writer.commitUntil(a.onModuleDestroy());
    started = [];
  });

  function start(writer: HeldWriter, env: Record<string, string> = {}) {
    now = 1_000_000;
    registry = new Registry();
    const config = loadGatewayConfig({
      INTERNAL_TOKEN_SECRET: randomBytes(32).toString('base64url'),
      EDGE_REFUSAL_WINDOW_MS: '60000',
      ...env,
    });
    const a = new RefusalAggregator(writer as unknown as AuditWriter, new GatewayMetrics(registry), config, () => now);
    started.push({ a, writer });
    return a;
  }

  const metric = async (outcome: string) =>
    (await registry.getSingleMetric('meditron_gateway_refusal_audit_total')?.get())?.values.find(
      (v) => v.labels['outcome'] === outcome,
    )?.value ?? 0;

  it('writes the first refusal of a window at once and the rest as one counted event when the window ends', async () => {
    const writer = new HeldWriter(100);
    const a = start(writer);
    for (let i = 0; i < 50; i++) void a.record(refusal('198.51.100.1'));
    expect(writer.queued).toBe(1);
    await writer.commitAll();
    now += 60_000;
    await writer.commitUntil(a.flushDue());
    expect(writer.written.map((e) => [e.requestId, e.detail?.['count'], e.detail?.['aggregated'] ?? false])).toEqual([
      ['req-198.51.100.1', 1, false],
      [null, 49, true],
    ]);
  });

  it('starts a new window for a refusal after its window ended, and still writes the old count', async () => {
    const writer = new HeldWriter(100);
    const a = start(writer);
    for (let i = 0; i < 3; i++) void a.record(refusal('198.51.100.1'));
    await writer.commitAll();
    now += 60_000; // the window is over, but no flush has run yet
    void a.record(refusal('198.51.100.1'));
    expect(writer.queued).toBe(1); // a first refusal again: its own event at once
    await writer.commitUntil(a.flushDue());
    expect(writer.written.map((e) => [e.requestId, e.detail?.['count']])).toEqual([
      ['req-198.51.100.1', 1],
      ['req-198.51.100.1', 1],
      [null, 2],
    ]);
  });

  it('keeps refusals to their share of the audit queue: other events still fit, the rest are counted, not lost', async () => {
    const writer = new HeldWriter(4);
    const a = start(writer, { EDGE_REFUSAL_AUDIT_BUDGET: '3' });
    // Ten sources each refused once: ten "first" refusals, but only three may be in the writer's queue.
    for (let i = 1; i <= 10; i++) void a.record(refusal(`198.51.100.${i}`));
    expect(writer.queued).toBe(3);
    expect(await metric('over_budget')).toBe(7);
    // The compliance API's own event still finds room.
    const other = writer.record({ action: 'audit.search', outcome: 'success', service: 'gateway' });
    expect(writer.queued).toBe(4);
    await writer.commitAll();
    await other;
    // Window after window, the deferred counts are written within the budget until all ten are in the trail.
    for (let round = 0; round < 5 && counted(writer.written) < 10; round++) {
      now += 60_000;
      const flushed = a.flushDue();
      expect(writer.queued).toBeLessThanOrEqual(3);
      await writer.commitUntil(flushed);
    }
    expect(counted(writer.written)).toBe(10);
  });

  it('folds a count the writer refused (queue full) into the next aggregate', async () => {
    const writer = new HeldWriter(0); // full of other events
    const a = start(writer);
    await a.record(refusal('198.51.100.1'));
    await a.record(refusal('198.51.100.1'));
    writer.maxQueue = 10;
    now += 60_000;
    await writer.commitUntil(a.flushDue());
    expect(writer.written.map((e) => e.detail?.['count'])).toEqual([2]);
  });

  it('counts sources beyond the window table per reason only', async () => {
    const writer = new HeldWriter(100);
    const a = start(writer, { EDGE_REFUSAL_MAX_PENDING: '2' });
    for (let i = 1; i <= 5; i++) void a.record(refusal(`198.51.100.${i}`));
    expect(await metric('overflow')).toBe(3);
    await writer.commitAll();
    now += 60_000;
    await writer.commitUntil(a.flushDue());
    expect(writer.written.map((e) => [e.detail?.['source'], e.detail?.['count']])).toEqual([
      ['198.51.100.1', 1],
      ['198.51.100.2', 1],
      ['*', 3],
    ]);
  });

  it('writes every open window at shutdown, budget or not', async () => {
    const writer = new HeldWriter(100);
    const a = start(writer, { EDGE_REFUSAL_AUDIT_BUDGET: '1' });
    for (let i = 1; i <= 3; i++) for (let j = 0; j < 4; j++) void a.record(refusal(`198.51.100.${i}`));
    await writer.commitAll();
    await writer.commitUntil(a.onModuleDestroy());
    expect(counted(writer.written)).toBe(12);
    // After its flush, what the closed writer refuses is counted as lost, never thrown.
    writer.closed = true;
    await expect(a.record(refusal('198.51.100.9'))).resolves.toBeUndefined();
    expect(await metric('lost')).toBe(1);
  });

  it('holds the place of an event released by the writer wait limit until the queue has drained', async () => {
    const writer = new HeldWriter(100);
    const a = start(writer, { EDGE_REFUSAL_AUDIT_BUDGET: '1' });
    const first = a.record(refusal('198.51.100.1'));
    writer.pending[0]!.reject(new AuditException(AuditExceptionCode.WRITE_TIMEOUT, 'slow'));
    await first;
    // Still queued in the real writer: the budget is still taken.
    void a.record(refusal('198.51.100.2'));
    expect(await metric('over_budget')).toBe(1);
    writer.pending.splice(0);
    await a.flushDue(); // the queue is empty now: the place is free again
    void a.record(refusal('198.51.100.3'));
    expect(writer.queued).toBe(1);
  });
});
