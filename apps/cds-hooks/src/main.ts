import 'reflect-metadata';
import { ConfigError } from '@app/config';
import { startCdsHooks } from './bootstrap';
import { loadCdsHooksConfig } from './cds-hooks.config';
import { connectCdsHooks } from './runtime';

async function main(): Promise<void> {
  const config = loadCdsHooksConfig(process.env);
  if (!config.DATABASE_URL)
    throw new ConfigError('cds-hooks', [
      {
        variable: 'DATABASE_URL',
        message: 'required when cds-hooks runs on its own (`npm start` runs the embedded stack)',
      },
    ]);
  const owned = await connectCdsHooks(config, { databaseUrl: config.DATABASE_URL });
  const running = await startCdsHooks(owned.runtime, process.env.BIND_HOST ?? '0.0.0.0');
  const stop = async () => {
    await running.close();
    await owned.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
