import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditWriter } from '@app/audit';
import { DatabaseHealthController } from '@app/database';
import {
  INFERENCE_REQUEST_SOURCE,
  RESULT_SIGNAL,
  type InferenceRequestSource,
  type ResultSignal,
} from '@app/messaging';
import { loggerModule } from '@app/observability';
import type { BackendTarget } from '@app/config';
import { profileForModelName } from '@app/prompts';
import { BackendDiscovery, type ResolveHost } from './backends/backend-discovery';
import { BackendForwarder } from './backends/backend-forwarder';
import { BackendHealth } from './backends/backend-health';
import { BackendMetricsScraper } from './backends/backend-metrics-scraper';
import { BackendPool, type PoolCompletion } from './backends/backend-pool';
import { FacadeAuthGuard } from './facade/facade-auth.guard';
import { FacadeGovernance } from './facade/facade-governance';
import { facadePolicyOf } from './facade/facade-policy';
import { FacadeRelay } from './facade/facade-relay';
import { OpenAiFacadeController } from './facade/openai-facade.controller';
import { AnswerSource } from './inference/answer-source';
import { InferenceRunner } from './inference/inference-runner.service';
import { PrioritySlots } from './inference/priority-slots';
import { ProxyAudit } from './inference/proxy-audit';
import { ResultBatchWriter } from './inference/result-batch-writer';
import { ResultCache } from './inference/result-cache';
import { storeResults } from './inference/result-store';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from './inference-proxy.config';
import { MetricsController } from './metrics/metrics.controller';
import { ProxyMetrics } from './metrics/proxy-metrics';
import { ProxyLifecycle } from './proxy-lifecycle';

export interface InferenceProxyRuntime {
  readonly config: InferenceProxyConfig;
  readonly backends: ReadonlyArray<BackendTarget>;
  readonly dataSource: DataSource;
  readonly source: InferenceRequestSource;
  readonly resultSignal: ResultSignal;
  readonly metrics: ProxyMetrics;
  /** How `dns+` backends are resolved; the system resolver unless a test injects one. */
  readonly resolveHost?: ResolveHost;
}

@Module({})
export class InferenceProxyModule {
  static forRoot(rt: InferenceProxyRuntime): DynamicModule {
    const c = rt.config;
    return {
      module: InferenceProxyModule,
      imports: [loggerModule('inference-proxy', c.LOG_LEVEL)],
      controllers: [DatabaseHealthController, MetricsController, OpenAiFacadeController],
      providers: [
        { provide: INFERENCE_PROXY_CONFIG, useValue: c },
        { provide: DataSource, useValue: rt.dataSource },
        { provide: INFERENCE_REQUEST_SOURCE, useValue: rt.source },
        { provide: RESULT_SIGNAL, useValue: rt.resultSignal },
        { provide: ProxyMetrics, useValue: rt.metrics },
        { provide: ProxyAudit, useValue: new ProxyAudit(new AuditWriter(rt.dataSource)) },
        {
          provide: BackendPool,
          useFactory: () =>
            new BackendPool(
              rt.backends,
              {
                callTimeoutMs: c.BACKEND_TIMEOUT_MS,
                maxAttempts: c.BACKEND_MAX_ATTEMPTS,
                retryBaseMs: c.BACKEND_RETRY_BASE_MS,
                retryMaxMs: c.BACKEND_RETRY_MAX_MS,
                cooldownMs: c.BACKEND_COOLDOWN_MS,
                maxOutstanding: c.BACKEND_MAX_OUTSTANDING,
                concurrency: c.INFERENCE_CONCURRENCY,
              },
              rt.metrics,
            ),
        },
        {
          provide: BackendHealth,
          useFactory: (pool: BackendPool) =>
            new BackendHealth(
              pool.backends,
              c.BACKEND_HEALTH_INTERVAL_MS,
              c.BACKEND_PROBE_TIMEOUT_MS,
              undefined,
              c.INFERENCE_MODEL,
              profileForModelName(c.INFERENCE_MODEL),
            ),
          inject: [BackendPool],
        },
        {
          provide: BackendMetricsScraper,
          useFactory: (pool: BackendPool) =>
            new BackendMetricsScraper(pool.backends, c.BACKEND_METRICS_INTERVAL_MS, c.BACKEND_PROBE_TIMEOUT_MS),
          inject: [BackendPool],
        },
        {
          provide: BackendDiscovery,
          useFactory: (pool: BackendPool, health: BackendHealth) =>
            new BackendDiscovery(pool, c.BACKEND_DISCOVERY_INTERVAL_MS, rt.resolveHost, (b) => health.probeOne(b)),
          inject: [BackendPool, BackendHealth],
        },
        { provide: PrioritySlots, useFactory: () => new PrioritySlots(c.INFERENCE_CONCURRENCY) },
        {
          provide: AnswerSource,
          useFactory: (pool: BackendPool) =>
            new AnswerSource(
              pool,
              new ResultCache<PoolCompletion>(c.INFERENCE_CACHE_TTL_MS, c.INFERENCE_CACHE_MAX_ENTRIES),
              rt.metrics,
            ),
          inject: [BackendPool],
        },
        {
          provide: ResultBatchWriter,
          useFactory: (ds: DataSource, audit: ProxyAudit) =>
            new ResultBatchWriter(
              {
                capacity: c.RESULT_QUEUE_CAPACITY,
                batchSize: c.RESULT_BATCH_SIZE,
                flushMs: c.RESULT_FLUSH_MS,
                concurrency: c.RESULT_WRITE_CONCURRENCY,
              },
              {
                store: (batch) => storeResults(ds, batch),
                audit: (event) => audit.record(event),
                observeBatch: (_rows, ok) => rt.metrics.resultBatch(ok),
              },
            ),
          inject: [DataSource, ProxyAudit],
        },
        {
          provide: FacadeRelay,
          useFactory: (pool: BackendPool, audit: ProxyAudit) =>
            new FacadeRelay(
              new BackendForwarder(pool),
              audit,
              c.INFERENCE_MODEL,
              pool.kinds,
              new FacadeGovernance(facadePolicyOf(c)),
            ),
          inject: [BackendPool, ProxyAudit],
        },
        FacadeAuthGuard,
        InferenceRunner,
        ProxyLifecycle,
      ],
    };
  }
}
