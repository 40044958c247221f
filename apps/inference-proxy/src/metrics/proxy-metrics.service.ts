import { Inject, Optional } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@app/observability';
import type { BackendErrorCode } from '../backends/backend-error';
import type { PoolObserver } from '../backends/backend-pool.service';
import type { BackendState, CooldownReason } from '../backends/backend-state';

export type RequestOutcome = 'ok' | 'error' | 'expired' | 'duplicate' | 'refused';
/** How an answer was shared instead of run again (the class that shares it is inference/answer-source.ts). */
export type SharedAnswerKind = 'cache' | 'coalesced';

/** Live figures read at scrape time rather than pushed on every change. */
export interface MetricsSources {
  backends(): ReadonlyArray<BackendState>;
  inFlight(): number;
  queued(): number;
  /** INFERENCE_QUEUE_CAPACITY: requests that may wait for a slot before the partitions pause. */
  queueCapacity(): number;
  writeBacklog(): number;
}

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * The proxy's Prometheus metrics, on a registry of its own (several proxies can share a test process).
 * Labels are backend ids, outcome codes and reasons only: never request ids, prompts or patient data.
 * Registered on the app's registry (served on METRICS_PORT), or a registry of its own when built alone.
 */
export class ProxyMetrics implements PoolObserver {
  readonly registry: Registry;
  private sources: MetricsSources | undefined;
  private readonly requests: Counter<'outcome'>;
  private readonly latency: Histogram<'outcome'>;
  private readonly backendCalls: Counter<'backend' | 'outcome'>;
  private readonly backendLatency: Histogram<'backend' | 'outcome'>;
  private readonly cooldowns: Counter<'backend' | 'reason'>;
  private readonly answersShared: Counter<'source'>;
  private readonly tokens: Counter<'direction'>;
  private readonly deadLetters: Counter;
  private readonly consumerLag: Gauge<'partition'>;
  private readonly resultBatches: Counter<'outcome'>;
  /** Label sets written per backend, so a removed engine's series can be removed (pods come and go). */
  private readonly backendSeries = new Map<string, Set<string>>();

  constructor(@Optional() @Inject(METRICS_REGISTRY) registry?: Registry) {
    this.registry = registry ?? new Registry();
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'meditron_proxy_requests_total',
      help: 'Inference requests handled, by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'meditron_proxy_request_duration_seconds',
      help: 'From receipt to result ready (queueing included), by outcome.',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.backendCalls = new Counter({
      name: 'meditron_proxy_backend_calls_total',
      help: 'Calls to backends, by backend and outcome.',
      labelNames: ['backend', 'outcome'],
      registers,
    });
    this.backendLatency = new Histogram({
      name: 'meditron_proxy_backend_call_duration_seconds',
      help: 'Duration of one backend call, by backend and outcome.',
      labelNames: ['backend', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.cooldowns = new Counter({
      name: 'meditron_proxy_backend_cooldowns_total',
      help: 'Times a backend was cooled down, by reason.',
      labelNames: ['backend', 'reason'],
      registers,
    });
    this.answersShared = new Counter({
      name: 'meditron_proxy_cache_hits_total',
      help: 'Answers served without a backend call: from the cache or a coalesced identical request.',
      labelNames: ['source'],
      registers,
    });
    this.tokens = new Counter({
      name: 'meditron_proxy_tokens_total',
      help: 'Tokens reported by backends.',
      labelNames: ['direction'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'meditron_proxy_dead_letters_total',
      help: 'Messages sent to the dead-letter topic.',
      registers,
    });
    this.resultBatches = new Counter({
      name: 'meditron_proxy_result_batches_total',
      help: 'Result batch writes, by outcome (a failed one is retried).',
      labelNames: ['outcome'],
      registers,
    });
    const sources = (): MetricsSources | undefined => this.sources;
    new Gauge({
      name: 'meditron_proxy_inflight',
      help: 'Inferences holding a slot.',
      registers,
      collect() {
        this.set(sources()?.inFlight() ?? 0);
      },
    });
    new Gauge({
      name: 'meditron_proxy_queue_depth',
      help: 'Requests waiting for a slot.',
      registers,
      collect() {
        this.set(sources()?.queued() ?? 0);
      },
    });
    new Gauge({
      name: 'meditron_proxy_queue_capacity',
      help: 'Requests that may wait for a slot (INFERENCE_QUEUE_CAPACITY); at the bound consumption pauses.',
      registers,
      collect() {
        this.set(sources()?.queueCapacity() ?? 0);
      },
    });
    this.consumerLag = new Gauge({
      name: 'meditron_proxy_consumer_lag',
      help: 'Messages of a partition not yet taken by this replica (high watermark minus the fetched offset), as of its last fetch.',
      labelNames: ['partition'],
      registers,
    });
    new Gauge({
      name: 'meditron_proxy_result_write_backlog',
      help: 'Results not yet durably stored.',
      registers,
      collect() {
        this.set(sources()?.writeBacklog() ?? 0);
      },
    });
    new Gauge({
      name: 'meditron_proxy_backend_healthy',
      help: '1 when the backend passes its health probes and is not cooling down.',
      labelNames: ['backend'],
      registers,
      collect() {
        // Only current engines: a removed one's series goes with it.
        this.reset();
        const now = Date.now();
        for (const b of sources()?.backends() ?? []) this.set({ backend: b.id }, b.available(now) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'meditron_proxy_backend_outstanding',
      help: 'Calls this replica has outstanding at the backend.',
      labelNames: ['backend'],
      registers,
      collect() {
        // Only current engines: a removed one's series goes with it.
        this.reset();
        for (const b of sources()?.backends() ?? []) this.set({ backend: b.id }, b.outstanding);
      },
    });
    new Gauge({
      name: 'meditron_proxy_backend_queue_waiting',
      help: 'Requests waiting at the backend, as it last reported.',
      labelNames: ['backend'],
      registers,
      collect() {
        // Only current engines: a removed one's series goes with it.
        this.reset();
        for (const b of sources()?.backends() ?? []) this.set({ backend: b.id }, b.queue?.waiting ?? 0);
      },
    });
  }

  attach(sources: MetricsSources): void {
    this.sources = sources;
  }

  requestFinished(outcome: RequestOutcome, seconds?: number): void {
    this.requests.inc({ outcome });
    if (seconds !== undefined) this.latency.observe({ outcome }, seconds);
  }

  answerShared(source: SharedAnswerKind): void {
    this.answersShared.inc({ source });
  }

  tokensUsed(tokensIn: number | null, tokensOut: number | null): void {
    if (tokensIn) this.tokens.inc({ direction: 'in' }, tokensIn);
    if (tokensOut) this.tokens.inc({ direction: 'out' }, tokensOut);
  }

  deadLettered(): void {
    this.deadLetters.inc();
  }

  /** Kafka only; partition numbers are a small closed set (the topic's partitions). */
  lag(partition: number, messages: number): void {
    this.consumerLag.set({ partition: String(partition) }, messages);
  }

  resultBatch(ok: boolean): void {
    this.resultBatches.inc({ outcome: ok ? 'ok' : 'error' });
  }

  callFinished(backendId: string, outcome: 'ok' | BackendErrorCode, seconds: number): void {
    this.noteSeries(backendId, `outcome:${outcome}`);
    this.backendCalls.inc({ backend: backendId, outcome });
    this.backendLatency.observe({ backend: backendId, outcome }, seconds);
  }

  cooledDown(backendId: string, reason: CooldownReason): void {
    this.noteSeries(backendId, `reason:${reason}`);
    this.cooldowns.inc({ backend: backendId, reason });
  }

  /** Drops a drained engine's series: label values stay bounded by the engines present, not all ever seen. */
  backendRemoved(backendId: string): void {
    for (const key of this.backendSeries.get(backendId) ?? []) {
      const [label, value] = key.split(':') as [string, string];
      if (label === 'outcome') {
        this.backendCalls.remove({ backend: backendId, outcome: value });
        this.backendLatency.remove({ backend: backendId, outcome: value });
      } else this.cooldowns.remove({ backend: backendId, reason: value });
    }
    this.backendSeries.delete(backendId);
  }

  private noteSeries(backendId: string, key: string): void {
    let keys = this.backendSeries.get(backendId);
    if (!keys) this.backendSeries.set(backendId, (keys = new Set()));
    keys.add(key);
  }
}
