// Before everything else: instrumentation hooks modules as they are first required.
import { tracing } from './tracing';
import 'reflect-metadata';
import { requireStandalone, runStandalone } from '@app/config';
import { startGateway } from './bootstrap';
import { loadGatewayConfig } from './gateway.config';

runStandalone(async () => {
  const config = loadGatewayConfig(process.env);
  const { DATABASE_URL } = requireStandalone('gateway', { DATABASE_URL: config.DATABASE_URL });
  const running = await startGateway({ config, databaseUrl: DATABASE_URL }, process.env.BIND_HOST ?? '0.0.0.0');
  return async () => {
    await running.close();
    await tracing?.shutdown();
  };
});
