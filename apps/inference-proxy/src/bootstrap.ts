import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { listen, type RunningApp } from '@app/observability';
import { InferenceProxyModule, type InferenceProxyRuntime } from './inference-proxy.module';

export async function startInferenceProxy(rt: InferenceProxyRuntime, host = '0.0.0.0'): Promise<RunningApp> {
  const app = await NestFactory.create<NestExpressApplication>(InferenceProxyModule.forRoot(rt), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useBodyParser('json', { limit: '2mb' });
  return listen(app, rt.config.INFERENCE_PROXY_PORT, host);
}
