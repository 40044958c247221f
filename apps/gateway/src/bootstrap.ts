import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { httpServerLimits, listen, type RunningApp } from '@app/observability';
import { applyConnectionLimits } from './edge/connection-limits';
import { setupOpenApi } from './docs/openapi';
import { applyEdgeSecurity } from './edge/security';
import { GatewayModule, type GatewayOptions } from './gateway.module';

export async function startGateway(rt: GatewayOptions, host = '0.0.0.0'): Promise<RunningApp> {
  // No global body parser: bodies are read only after the caller is authenticated (forwarding/json-body-reader.service.ts).
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(rt), {
    bufferLogs: true,
    bodyParser: false,
    // Throw instead of exiting the process when a connection fails at start-up: the caller decides.
    abortOnError: false,
  });
  applyEdgeSecurity(app, rt.config);
  setupOpenApi(app, rt.config);
  applyConnectionLimits(app, rt.config);
  return listen(app, rt.config.GATEWAY_PORT, host, {
    limits: httpServerLimits(rt.config),
    trustProxy: rt.config.EDGE_TRUSTED_PROXIES,
  });
}
