import type { DataSource } from 'typeorm';
import { assertSchemaCurrent, createDataSource } from '@app/database';
import type { GatewayConfig } from './gateway.config';

/** What the gateway needs from the outside world, wired by main.ts or by the local stack. */
export interface GatewayRuntime {
  readonly config: GatewayConfig;
  /** Client registry table, JWT replay table, audit trail. */
  readonly dataSource: DataSource;
}

export interface OwnedGatewayRuntime {
  readonly runtime: GatewayRuntime;
  close(): Promise<void>;
}

export async function connectGateway(
  config: GatewayConfig,
  opts: { databaseUrl: string },
): Promise<OwnedGatewayRuntime> {
  const dataSource = createDataSource({
    url: opts.databaseUrl,
    poolSize: config.DB_POOL_SIZE,
    applicationName: 'meditron-gateway',
  });
  await dataSource.initialize();
  try {
    await assertSchemaCurrent(dataSource);
  } catch (e) {
    await dataSource.destroy();
    throw e;
  }
  return { runtime: { config, dataSource }, close: () => dataSource.destroy() };
}
