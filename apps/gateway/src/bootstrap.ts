import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { listen, type RunningApp } from '@app/observability';
import { GatewayModule } from './gateway.module';
import type { GatewayConfig } from './gateway.config';

export async function startGateway(config: GatewayConfig, host = '0.0.0.0'): Promise<RunningApp> {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  // Strict JSON: only objects and arrays at the top, bounded size.
  app.useBodyParser('json', {
    limit: config.BODY_LIMIT,
    strict: true,
    type: ['application/json', 'application/fhir+json'],
  });
  return listen(app, config.GATEWAY_PORT, host);
}
