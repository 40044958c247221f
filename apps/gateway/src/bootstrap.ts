import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { listen, type RunningApp } from '@app/observability';
import { setupOpenApi } from './docs/openapi';
import { EdgeExceptionFilter } from './edge/edge-exception.filter';
import { applyEdgeSecurity } from './edge/security';
import { GatewayModule } from './gateway.module';
import type { GatewayRuntime } from './runtime';

export async function startGateway(rt: GatewayRuntime, host = '0.0.0.0'): Promise<RunningApp> {
  // No global body parser: bodies are read only after the caller is authenticated (forwarding/json-body.reader.ts).
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(rt), {
    bufferLogs: true,
    bodyParser: false,
  });
  applyEdgeSecurity(app, rt.config);
  app.useGlobalFilters(new EdgeExceptionFilter());
  setupOpenApi(app, rt.config);
  return listen(app, rt.config.GATEWAY_PORT, host);
}
