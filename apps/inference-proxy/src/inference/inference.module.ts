import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { batchInsert } from '@app/audit';
import { DataAccessModule, InferenceRepository } from '@app/database';
import { RESULT_SIGNAL, type ResultSignal } from '@app/messaging';
import { BackendPool, type PoolCompletion } from '../backends/backend-pool.service';
import { BackendsModule } from '../backends/backends.module';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from '../inference-proxy.config';
import { MetricsModule } from '../metrics/metrics.module';
import { ProxyMetrics } from '../metrics/proxy-metrics.service';
import { AnswerSource } from './answer-source.service';
import { toStoredResult } from './inference-record';
import { InferenceRequestsController } from './inference-requests.controller';
import { InferenceRunner } from './inference-runner.service';
import { PrioritySlots } from './priority-slots.service';
import { ResultBatchWriter } from './result-batch-writer.service';
import { ResultCache } from './result-cache';

/**
 * Gauges over this module's queues, and the result writer's drain. The transport (InferenceRequestServer) stops
 * consuming in onModuleDestroy; the writer then drains here, before the global audit writer and the database close.
 */
@Injectable()
class InferenceLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(INFERENCE_PROXY_CONFIG) private readonly config: InferenceProxyConfig,
    private readonly pool: BackendPool,
    private readonly slots: PrioritySlots,
    private readonly writer: ResultBatchWriter,
    private readonly metrics: ProxyMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.metrics.attach({
      backends: () => this.pool.backends,
      inFlight: () => this.slots.active,
      queued: () => this.slots.queued,
      queueCapacity: () => this.config.INFERENCE_QUEUE_CAPACITY,
      writeBacklog: () => this.writer.backlog,
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.close(this.config.SHUTDOWN_GRACE_MS);
  }
}

/** Runs inference requests from the transport: priority slots, answer reuse, batched result storage. */
@Module({
  imports: [BackendsModule, MetricsModule, DataAccessModule.forFeature([InferenceRepository])],
  controllers: [InferenceRequestsController],
  providers: [
    {
      provide: PrioritySlots,
      // Bounded in every transport: Kafka also pauses at the bound, the in-process bus delivers without one.
      useFactory: (c: InferenceProxyConfig) => new PrioritySlots(c.INFERENCE_CONCURRENCY, c.INFERENCE_QUEUE_CAPACITY),
      inject: [INFERENCE_PROXY_CONFIG],
    },
    {
      provide: AnswerSource,
      useFactory: (c: InferenceProxyConfig, pool: BackendPool, metrics: ProxyMetrics) =>
        new AnswerSource(
          pool,
          new ResultCache<PoolCompletion>(c.INFERENCE_CACHE_TTL_MS, c.INFERENCE_CACHE_MAX_ENTRIES),
          metrics,
        ),
      inject: [INFERENCE_PROXY_CONFIG, BackendPool, ProxyMetrics],
    },
    {
      provide: ResultBatchWriter,
      useFactory: (c: InferenceProxyConfig, repo: InferenceRepository, metrics: ProxyMetrics, signal: ResultSignal) =>
        new ResultBatchWriter(
          {
            capacity: c.RESULT_QUEUE_CAPACITY,
            batchSize: c.RESULT_BATCH_SIZE,
            flushMs: c.RESULT_FLUSH_MS,
            concurrency: c.RESULT_WRITE_CONCURRENCY,
          },
          {
            // The rows' audit events go in the same statement (see ResultBatchWriter), not through the writer; over
            // Postgres NOTIFY (Kafka mode) so does the announcement, stored rows included (InferenceRunner then does
            // not announce).
            store: (batch, events) =>
              repo.storeResults(
                batch.map(toStoredResult),
                (offset) => batchInsert(events, offset),
                signal.notifyChannel,
              ),
            observeBatch: (_rows, ok) => metrics.resultBatch(ok),
          },
        ),
      inject: [INFERENCE_PROXY_CONFIG, InferenceRepository, ProxyMetrics, RESULT_SIGNAL],
    },
    InferenceRunner,
    InferenceLifecycle,
  ],
})
export class InferenceModule {}
