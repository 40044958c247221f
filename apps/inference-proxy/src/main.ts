import 'reflect-metadata';
import { ConfigError } from '@app/config';
import { startInferenceProxy } from './bootstrap';
import { loadInferenceProxyConfig } from './inference-proxy.config';
import { connectInferenceProxy } from './runtime';

async function main(): Promise<void> {
  const config = loadInferenceProxyConfig(process.env);
  const missing = [
    ...(config.DATABASE_URL ? [] : ['DATABASE_URL']),
    ...(config.INFERENCE_BACKENDS ? [] : ['INFERENCE_BACKENDS']),
  ];
  if (!config.DATABASE_URL || !config.INFERENCE_BACKENDS) {
    throw new ConfigError(
      'inference-proxy',
      missing.map((variable) => ({
        variable,
        message: 'required when the proxy runs on its own (`npm start` runs the embedded stack)',
      })),
    );
  }
  const owned = await connectInferenceProxy(config, {
    databaseUrl: config.DATABASE_URL,
    backends: config.INFERENCE_BACKENDS,
  });
  const running = await startInferenceProxy(owned.runtime, process.env.BIND_HOST ?? '0.0.0.0');
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
