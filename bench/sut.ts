/**
 * The system under test, in its own process: the three apps through tools/local-stack (single-process mode),
 * configured entirely by the environment the benchmark passes (DATABASE_URL or embedded PGlite, KAFKA_BROKERS
 * or the in-process bus, INFERENCE_BACKENDS = the model double's process). Reports its URLs and the dev EHR
 * client's key over IPC; stops on a 'stop' message (so `--cpu-prof` can write its profile on exit).
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startLocalStack, type LocalStack } from '../tools/local-stack/local-stack';
import { errorText } from './lib/stats';
import type { SutMessage } from './lib/types';

async function main(): Promise<void> {
  if (process.env.LOG_LEVEL === 'silent') Logger.overrideLogger(false);
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      env: process.env,
      ...(process.env.BENCH_PGLITE_DIR ? { dataDir: process.env.BENCH_PGLITE_DIR } : {}),
      devClientDir: process.env.BENCH_DEV_CLIENT_DIR ?? '.local/bench-dev-client',
    });
  } catch (e) {
    process.send?.({ type: 'failed', error: errorText(e) } satisfies SutMessage);
    setTimeout(() => process.exit(1), 100);
    return;
  }
  const dev = stack.devEhrClient;
  process.send?.({
    type: 'ready',
    gatewayUrl: stack.gatewayUrl,
    cdsHooksUrl: stack.cdsHooksUrl,
    inferenceProxyUrl: stack.inferenceProxyUrl,
    publicBaseUrl: stack.publicBaseUrl,
    databaseUrl: stack.databaseUrl,
    mode: stack.mode,
    // Absent in trees older than the per-app metrics listeners (a baseline run of an older ref).
    ...(stack.metricsUrls ? { metricsUrls: { ...stack.metricsUrls } } : {}),
    key: { kid: dev.kid, alg: dev.alg, privateJwk: dev.privateJwk, issuer: dev.issuer },
  } satisfies SutMessage);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const hard = setTimeout(() => process.exit(0), 15_000);
    void stack.stop().finally(() => {
      clearTimeout(hard);
      process.exit(0);
    });
  };
  process.on('message', (m: unknown) => {
    if (m === 'stop') stop();
  });
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
}

void main();
