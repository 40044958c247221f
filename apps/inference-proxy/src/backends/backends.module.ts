import {
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataAccessModule, ModelPoolLimitsRepository } from '@app/database';
import { profileForModelName } from '@app/prompts';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from '../inference-proxy.config';
import { MetricsModule } from '../metrics/metrics.module';
import { ProxyMetrics } from '../metrics/proxy-metrics.service';
import { BackendDiscovery, type ResolveHost } from './backend-discovery.service';
import { BackendHealth } from './backend-health.service';
import { BackendMetricsScraper } from './backend-metrics-scraper.service';
import { BackendPool } from './backend-pool.service';
import { PoolLimitsPublisher } from './pool-limits-publisher.service';

/** An unchanged pool context is republished this often, so cds-hooks can tell a live value from a stale one. */
const POOL_LIMITS_REFRESH_MS = 60_000;

/** How `dns+` backends are resolved: null for the system resolver; tests inject their own. */
export const RESOLVE_HOST = Symbol('RESOLVE_HOST');

@Module({})
class ResolveHostModule {}

/** Provides RESOLVE_HOST to the backend pool's discovery (global: the pool's module is imported in two places). */
export function resolveHostModule(resolveHost?: ResolveHost): DynamicModule {
  return {
    module: ResolveHostModule,
    global: true,
    providers: [{ provide: RESOLVE_HOST, useValue: resolveHost ?? null }],
    exports: [RESOLVE_HOST],
  };
}

/**
 * Probes, scrapes, engine discovery and the pool-limits publisher run while the app does; they stop once the app
 * shuts down, and the engines' connections close (after every module's `beforeApplicationShutdown`: in-flight
 * inferences have had their grace by then, and calls still running finish first).
 */
@Injectable()
class BackendProbes implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly pool: BackendPool,
    private readonly health: BackendHealth,
    private readonly scraper: BackendMetricsScraper,
    private readonly discovery: BackendDiscovery,
    private readonly limits: PoolLimitsPublisher,
  ) {}

  onApplicationBootstrap(): void {
    this.health.start();
    this.scraper.start();
    this.discovery.start();
    this.limits.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.health.stop(), this.scraper.stop(), this.discovery.stop(), this.limits.stop()]);
    await this.pool.close();
  }
}

/** The backend pool (routing, retries, cooldowns) with its health probes and load scrapes. */
@Module({
  imports: [MetricsModule, DataAccessModule.forFeature([ModelPoolLimitsRepository])],
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
            ...(c.BACKEND_MAX_CONNECTIONS !== undefined ? { maxConnections: c.BACKEND_MAX_CONNECTIONS } : {}),
            concurrency: c.INFERENCE_CONCURRENCY,
          },
          metrics,
        ),
      inject: [INFERENCE_PROXY_CONFIG, ProxyMetrics],
    },
    {
      provide: BackendHealth,
      useFactory: (c: InferenceProxyConfig, pool: BackendPool) =>
        new BackendHealth(
          pool.backends,
          c.BACKEND_HEALTH_INTERVAL_MS,
          c.BACKEND_PROBE_TIMEOUT_MS,
          c.INFERENCE_MODEL,
          profileForModelName(c.INFERENCE_MODEL),
        ),
      inject: [INFERENCE_PROXY_CONFIG, BackendPool],
    },
    {
      provide: BackendMetricsScraper,
      useFactory: (c: InferenceProxyConfig, pool: BackendPool) =>
        new BackendMetricsScraper(pool.backends, c.BACKEND_METRICS_INTERVAL_MS, c.BACKEND_PROBE_TIMEOUT_MS),
      inject: [INFERENCE_PROXY_CONFIG, BackendPool],
    },
    {
      provide: BackendDiscovery,
      useFactory: (
        c: InferenceProxyConfig,
        pool: BackendPool,
        health: BackendHealth,
        resolveHost: ResolveHost | null,
      ) =>
        new BackendDiscovery(pool, c.BACKEND_DISCOVERY_INTERVAL_MS, resolveHost ?? undefined, (b) =>
          health.probeOne(b),
        ),
      inject: [INFERENCE_PROXY_CONFIG, BackendPool, BackendHealth, RESOLVE_HOST],
    },
    {
      provide: PoolLimitsPublisher,
      useFactory: (c: InferenceProxyConfig, pool: BackendPool, limits: ModelPoolLimitsRepository) =>
        new PoolLimitsPublisher(pool, limits, {
          model: c.INFERENCE_MODEL,
          maxOutputTokens: profileForModelName(c.INFERENCE_MODEL).maxOutputTokens,
          checkMs: c.BACKEND_HEALTH_INTERVAL_MS,
          refreshMs: POOL_LIMITS_REFRESH_MS,
        }),
      inject: [INFERENCE_PROXY_CONFIG, BackendPool, ModelPoolLimitsRepository],
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
