// Before everything else: instrumentation hooks modules as they are first required.
import { tracing } from './tracing';
import 'reflect-metadata';
import { requireStandalone, runStandalone } from '@app/config';
import { startInferenceProxy } from './bootstrap';
import { loadInferenceProxyConfig } from './inference-proxy.config';

runStandalone(async () => {
  const config = loadInferenceProxyConfig(process.env);
  const required = requireStandalone('inference-proxy', {
    DATABASE_URL: config.DATABASE_URL,
    INFERENCE_BACKENDS: config.INFERENCE_BACKENDS,
  });
  const running = await startInferenceProxy(
    { config, databaseUrl: required.DATABASE_URL, backends: required.INFERENCE_BACKENDS },
    process.env.BIND_HOST ?? '0.0.0.0',
  );
  return async () => {
    await running.close();
    await tracing?.shutdown();
  };
});
