import 'reflect-metadata';
import { startGateway } from './bootstrap';
import { loadGatewayConfig } from './gateway.config';

async function main(): Promise<void> {
  const running = await startGateway(loadGatewayConfig(process.env), process.env.BIND_HOST ?? '0.0.0.0');
  const stop = async () => {
    await running.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
