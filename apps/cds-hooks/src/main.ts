// Before everything else: instrumentation hooks modules as they are first required.
import { tracing } from './tracing';
import 'reflect-metadata';
import { requireStandalone, runStandalone } from '@app/config';
import { startCdsHooks } from './bootstrap';
import { loadCdsHooksConfig } from './cds-hooks.config';

runStandalone(async () => {
  const config = loadCdsHooksConfig(process.env);
  const { DATABASE_URL } = requireStandalone('cds-hooks', { DATABASE_URL: config.DATABASE_URL });
  const running = await startCdsHooks({ config, databaseUrl: DATABASE_URL }, process.env.BIND_HOST ?? '0.0.0.0');
  return async () => {
    await running.close();
    await tracing?.shutdown();
  };
});
