import 'reflect-metadata';
import { ConfigError } from '@app/config';
import { startGateway } from './bootstrap';
import { loadGatewayConfig } from './gateway.config';
import { connectGateway } from './runtime';

async function main(): Promise<void> {
  const config = loadGatewayConfig(process.env);
  if (!config.DATABASE_URL)
    throw new ConfigError('gateway', [
      {
        variable: 'DATABASE_URL',
        message: 'required when the gateway runs on its own (`npm start` runs the embedded stack)',
      },
    ]);
  const owned = await connectGateway(config, { databaseUrl: config.DATABASE_URL });
  const running = await startGateway(owned.runtime, process.env.BIND_HOST ?? '0.0.0.0');
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
