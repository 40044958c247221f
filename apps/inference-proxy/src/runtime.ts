import { kafkaSecurity, type BackendTarget } from '@app/config';
import { assertSchemaCurrent, createDataSource } from '@app/database';
import { createKafka, createProducer, KafkaRequestSource, PgResultSignal, type InProcessBus } from '@app/messaging';
import type { ResolveHost } from './backends/backend-discovery';
import type { InferenceProxyConfig } from './inference-proxy.config';
import type { InferenceProxyRuntime } from './inference-proxy.module';
import { ProxyMetrics } from './metrics/proxy-metrics';

export interface OwnedProxyRuntime {
  readonly runtime: InferenceProxyRuntime;
  close(): Promise<void>;
}

export async function connectInferenceProxy(
  config: InferenceProxyConfig,
  opts: { databaseUrl: string; backends: ReadonlyArray<BackendTarget>; bus?: InProcessBus; resolveHost?: ResolveHost },
): Promise<OwnedProxyRuntime> {
  const dataSource = createDataSource({
    url: opts.databaseUrl,
    poolSize: config.DB_POOL_SIZE,
    applicationName: 'meditron-inference-proxy',
  });
  await dataSource.initialize();
  await assertSchemaCurrent(dataSource);
  const metrics = new ProxyMetrics();
  const resolveHost = opts.resolveHost ? { resolveHost: opts.resolveHost } : {};
  if (opts.bus) {
    return {
      runtime: {
        config,
        backends: opts.backends,
        dataSource,
        source: opts.bus,
        resultSignal: opts.bus,
        metrics,
        ...resolveHost,
      },
      close: async () => {
        await opts.bus?.stop();
        await dataSource.destroy();
      },
    };
  }
  if (!config.KAFKA_BROKERS)
    throw new Error('inference-proxy: KAFKA_BROKERS is required when not running in the local single-process stack');
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID,
    security: kafkaSecurity(config),
  });
  const producer = createProducer(kafka);
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: config.KAFKA_GROUP_ID,
    sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatInterval: config.KAFKA_HEARTBEAT_MS,
    maxWaitTimeInMs: config.KAFKA_MAX_WAIT_MS,
  });
  await consumer.connect();
  const source = new KafkaRequestSource(consumer, producer, {
    // Requests running plus those waiting for a slot by priority; beyond that the partitions pause.
    maxPending: config.INFERENCE_CONCURRENCY + config.INFERENCE_QUEUE_CAPACITY,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    onDeadLetter: () => metrics.deadLettered(),
  });
  return {
    runtime: {
      config,
      backends: opts.backends,
      dataSource,
      source,
      resultSignal: new PgResultSignal(dataSource, opts.databaseUrl),
      metrics,
      ...resolveHost,
    },
    async close() {
      await source.stop();
      await producer.disconnect();
      await dataSource.destroy();
    },
  };
}
