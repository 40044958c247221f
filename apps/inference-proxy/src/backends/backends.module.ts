import { Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from '../inference-proxy.config';
import { MetricsModule } from '../metrics/metrics.module';
import { ProxyMetrics } from '../metrics/proxy-metrics';
import { BackendHealth } from './backend-health';
import { BackendMetricsScraper } from './backend-metrics-scraper';
import { BackendPool } from './backend-pool';

/** Probes and scrapes run while the app does; they stop once the app shuts down. */
@Injectable()
class BackendProbes implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly health: BackendHealth,
    private readonly scraper: BackendMetricsScraper,
  ) {}

  onApplicationBootstrap(): void {
    this.health.start();
    this.scraper.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.health.stop(), this.scraper.stop()]);
  }
}

/** The backend pool (routing, retries, cooldowns) with its health probes and load scrapes. */
@Module({
  imports: [MetricsModule],
  providers: [
    {
      provide: BackendPool,
      useFactory: (c: InferenceProxyConfig, metrics: ProxyMetrics) =>
        new BackendPool(
          requireBackends(c),
          {
            callTimeoutMs: c.BACKEND_TIMEOUT_MS,
            maxAttempts: c.BACKEND_MAX_ATTEMPTS,
            retryBaseMs: c.BACKEND_RETRY_BASE_MS,
            retryMaxMs: c.BACKEND_RETRY_MAX_MS,
            cooldownMs: c.BACKEND_COOLDOWN_MS,
            maxOutstanding: c.BACKEND_MAX_OUTSTANDING,
          },
          metrics,
        ),
      inject: [INFERENCE_PROXY_CONFIG, ProxyMetrics],
    },
    {
      provide: BackendHealth,
      useFactory: (c: InferenceProxyConfig, pool: BackendPool) =>
        new BackendHealth(pool.backends, c.BACKEND_HEALTH_INTERVAL_MS, c.BACKEND_PROBE_TIMEOUT_MS),
      inject: [INFERENCE_PROXY_CONFIG, BackendPool],
    },
    {
      provide: BackendMetricsScraper,
      useFactory: (c: InferenceProxyConfig, pool: BackendPool) =>
        new BackendMetricsScraper(pool.backends, c.BACKEND_METRICS_INTERVAL_MS, c.BACKEND_PROBE_TIMEOUT_MS),
      inject: [INFERENCE_PROXY_CONFIG, BackendPool],
    },
    BackendProbes,
  ],
  exports: [BackendPool],
})
export class BackendsModule {}

function requireBackends(c: InferenceProxyConfig): NonNullable<InferenceProxyConfig['INFERENCE_BACKENDS']> {
  if (!c.INFERENCE_BACKENDS?.length) throw new Error('inference-proxy: INFERENCE_BACKENDS is required');
  return c.INFERENCE_BACKENDS;
}
