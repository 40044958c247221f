import { kafkaSecurity } from '@app/config';
import type { DataSource } from 'typeorm';
import { assertSchemaCurrent, createDataSource } from '@app/database';
import { createKafka, createProducer, KafkaDispatcher, PgResultSignal, type InProcessBus } from '@app/messaging';
import type { CdsHooksConfig } from './cds-hooks.config';
import type { CdsHooksRuntime } from './cds-hooks.module';

export interface OwnedRuntime {
  readonly runtime: CdsHooksRuntime;
  close(): Promise<void>;
}

/**
 * Connects cds-hooks to its database and transport. With an in-process bus (local stack, KAFKA_BROKERS
 * unset) requests and result signals stay in memory; otherwise Kafka carries requests and Postgres
 * LISTEN/NOTIFY carries the result signal.
 */
export async function connectCdsHooks(
  config: CdsHooksConfig,
  opts: { databaseUrl: string; bus?: InProcessBus },
): Promise<OwnedRuntime> {
  const dataSource: DataSource = createDataSource({
    url: opts.databaseUrl,
    poolSize: config.DB_POOL_SIZE,
    applicationName: 'meditron-cds-hooks',
  });
  await dataSource.initialize();
  await assertSchemaCurrent(dataSource);
  if (opts.bus) {
    return {
      runtime: { config, dataSource, dispatcher: opts.bus, resultSignal: opts.bus },
      close: () => dataSource.destroy(),
    };
  }
  if (!config.KAFKA_BROKERS)
    throw new Error('cds-hooks: KAFKA_BROKERS is required when not running in the local single-process stack');
  const producer = createProducer(
    createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, security: kafkaSecurity(config) }),
  );
  await producer.connect();
  const signal = new PgResultSignal(dataSource, opts.databaseUrl);
  await signal.listen();
  return {
    runtime: { config, dataSource, dispatcher: new KafkaDispatcher(producer), resultSignal: signal },
    async close() {
      await signal.close();
      await producer.disconnect();
      await dataSource.destroy();
    },
  };
}
