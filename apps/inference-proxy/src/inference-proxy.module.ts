import { Module, type DynamicModule } from '@nestjs/common';
import { AuditModule } from '@app/audit';
import { ConfigModule, kafkaSecurity, type BackendTarget } from '@app/config';
import { DatabaseModule } from '@app/database';
import { MessagingModule, type InProcessBus, type MessagingTransport } from '@app/messaging';
import { loggerModule, MetricsServerModule } from '@app/observability';
import type { ResolveHost } from './backends/backend-discovery.service';
import { resolveHostModule } from './backends/backends.module';
import { FacadeModule } from './facade/facade.module';
import { InferenceModule } from './inference/inference.module';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from './inference-proxy.config';
import { MetricsModule } from './metrics/metrics.module';
import { ProxyMetrics } from './metrics/proxy-metrics.service';

export interface InferenceProxyOptions {
  readonly config: InferenceProxyConfig;
  readonly databaseUrl: string;
  readonly backends: ReadonlyArray<BackendTarget>;
  /** The local single-process stack's in-memory transport; without it, Kafka (KAFKA_BROKERS). */
  readonly bus?: InProcessBus;
  /** How `dns+` backends are resolved; the system resolver unless a test injects one. */
  readonly resolveHost?: ResolveHost;
}

/**
 * The proxy: database, audit and transport (global, closed last), then the backend pool, the request
 * runner, the OpenAI facade and metrics. On shutdown the runner stops consuming (onModuleDestroy), the
 * result and audit writers drain (beforeApplicationShutdown), then the database closes (onApplicationShutdown).
 */
@Module({})
export class InferenceProxyModule {
  static forRoot(opts: InferenceProxyOptions): DynamicModule {
    const c = opts.config;
    return {
      module: InferenceProxyModule,
      imports: [
        loggerModule('inference-proxy', c.LOG_LEVEL),
        MetricsServerModule.forRoot({ app: 'inference-proxy', port: c.METRICS_PORT, host: c.METRICS_HOST }),
        ConfigModule.forRoot(INFERENCE_PROXY_CONFIG, { ...c, INFERENCE_BACKENDS: [...opts.backends] }),
        DatabaseModule.forRoot({
          url: opts.databaseUrl,
          poolSize: c.DB_POOL_SIZE,
          preparedStatements: c.DB_PREPARED_STATEMENTS,
          applicationName: 'meditron-inference-proxy',
        }),
        AuditModule,
        resolveHostModule(opts.resolveHost),
        MessagingModule.forConsumer({
          imports: [MetricsModule],
          inject: [ProxyMetrics],
          useFactory: (metrics: ProxyMetrics) => ({
            transport: transportOf(c, opts),
            group: {
              groupId: c.KAFKA_GROUP_ID,
              sessionTimeout: c.KAFKA_SESSION_TIMEOUT_MS,
              heartbeatInterval: c.KAFKA_HEARTBEAT_MS,
              maxWaitTimeInMs: c.KAFKA_MAX_WAIT_MS,
            },
            // Requests running plus those waiting for a slot by priority; beyond that the partitions pause.
            maxPending: c.INFERENCE_CONCURRENCY + c.INFERENCE_QUEUE_CAPACITY,
            shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
            onDeadLetter: () => metrics.deadLettered(),
            onLag: (partition: number, messages: number) => metrics.lag(partition, messages),
          }),
        }),
        MetricsModule,
        InferenceModule,
        FacadeModule,
      ],
    };
  }
}

function transportOf(c: InferenceProxyConfig, opts: InferenceProxyOptions): MessagingTransport {
  if (opts.bus) return { kind: 'in-process', bus: opts.bus };
  if (!c.KAFKA_BROKERS)
    throw new Error('inference-proxy: KAFKA_BROKERS is required when not running in the local single-process stack');
  return {
    kind: 'kafka',
    kafka: { brokers: c.KAFKA_BROKERS, clientId: c.KAFKA_CLIENT_ID, security: kafkaSecurity(c) },
    databaseUrl: opts.databaseUrl,
  };
}
