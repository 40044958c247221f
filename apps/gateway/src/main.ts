import 'reflect-metadata';
import { requireStandalone, runStandalone } from '@app/config';
import { startGateway } from './bootstrap';
import { loadGatewayConfig } from './gateway.config';
import { connectGateway } from './runtime';

runStandalone(async () => {
  const config = loadGatewayConfig(process.env);
  const { DATABASE_URL } = requireStandalone('gateway', { DATABASE_URL: config.DATABASE_URL });
  const owned = await connectGateway(config, { databaseUrl: DATABASE_URL });
  const running = await startGateway(owned.runtime, process.env.BIND_HOST ?? '0.0.0.0');
  return async () => {
    await running.close();
    await owned.close();
  };
});
