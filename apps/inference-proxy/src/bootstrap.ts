import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { InferenceRequestServer } from '@app/messaging';
import { httpServerLimits, listen, useAppLogger, type RunningApp } from '@app/observability';
import { InferenceProxyModule, type InferenceProxyOptions } from './inference-proxy.module';

/**
 * Creates and starts the proxy, a hybrid app: HTTP (facade, metrics, health) plus the inference-request
 * microservice. Closing it stops consuming, drains the writers and closes the database.
 */
export async function startInferenceProxy(opts: InferenceProxyOptions, host = '0.0.0.0'): Promise<RunningApp> {
  const app = await NestFactory.create<NestExpressApplication>(InferenceProxyModule.forRoot(opts), {
    bufferLogs: true,
    bodyParser: false,
    // Throw instead of exiting the process when a connection fails at start-up: the caller decides.
    abortOnError: false,
  });
  app.useBodyParser('json', { limit: '2mb' });
  useAppLogger(app);
  app.connectMicroservice({ strategy: app.get(InferenceRequestServer) }, { inheritAppConfig: true });
  await app.init();
  await app.startAllMicroservices();
  return listen(app, opts.config.INFERENCE_PROXY_PORT, host, { limits: httpServerLimits(opts.config) });
}
