import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { BackendDiscovery } from './backends/backend-discovery';
import { BackendHealth } from './backends/backend-health';
import { BackendMetricsScraper } from './backends/backend-metrics-scraper';
import { BackendPool } from './backends/backend-pool';
import { PrioritySlots } from './inference/priority-slots';
import { ProxyAudit } from './inference/proxy-audit';
import { ResultBatchWriter } from './inference/result-batch-writer';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from './inference-proxy.config';
import { ProxyMetrics } from './metrics/proxy-metrics';

/**
 * Starts the backend probes, scrapes and discovery, and on shutdown (after the runner stopped taking work in
 * onModuleDestroy) lets the result writer, then the audit writer, drain before the database goes away.
 */
@Injectable()
export class ProxyLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(INFERENCE_PROXY_CONFIG) private readonly config: InferenceProxyConfig,
    private readonly pool: BackendPool,
    private readonly health: BackendHealth,
    private readonly scraper: BackendMetricsScraper,
    private readonly discovery: BackendDiscovery,
    private readonly slots: PrioritySlots,
    private readonly writer: ResultBatchWriter,
    private readonly metrics: ProxyMetrics,
    private readonly audit: ProxyAudit,
  ) {}

  onApplicationBootstrap(): void {
    this.metrics.attach({
      backends: () => this.pool.backends,
      inFlight: () => this.slots.active,
      queued: () => this.slots.queued,
      writeBacklog: () => this.writer.backlog,
    });
    this.health.start();
    this.scraper.start();
    this.discovery.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.close(this.config.SHUTDOWN_GRACE_MS);
    await this.audit.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.health.stop(), this.scraper.stop(), this.discovery.stop()]);
  }
}
