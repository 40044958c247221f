import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { httpServerLimits, listen, type RunningApp } from '@app/observability';
import { limitConnectionsPerSource } from './edge/connection-limits';
import { GatewayMetrics } from './edge/gateway-metrics';
import { RefusalAggregator } from './edge/refusal-aggregator';
import { setupOpenApi } from './docs/openapi';
import { applyEdgeSecurity } from './edge/security';
import { GatewayModule, type GatewayOptions } from './gateway.module';

export async function startGateway(rt: GatewayOptions, host = '0.0.0.0'): Promise<RunningApp> {
  // No global body parser: bodies are read only after the caller is authenticated (forwarding/json-body.reader.ts).
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(rt), {
    bufferLogs: true,
    bodyParser: false,
    // Throw instead of exiting the process when a connection fails at start-up: the caller decides.
    abortOnError: false,
  });
  applyEdgeSecurity(app, rt.config);
  setupOpenApi(app, rt.config);
  const metrics = app.get(GatewayMetrics);
  const refusals = app.get(RefusalAggregator);
  limitConnectionsPerSource(app.getHttpServer(), {
    maxPerSource: rt.config.EDGE_MAX_CONNECTIONS_PER_SOURCE,
    // Set by listen() from EDGE_TRUSTED_PROXIES: a proxy's connections carry many clients.
    isTrustedPeer: (address) => trustFn(app)(address, 0),
    onRefused: (source) => {
      metrics.connectionRefused();
      void refusals.record({
        action: 'request.refused',
        reason: 'too_many_connections',
        source,
        clientId: null,
        tenant: null,
        actor: null,
        requestId: null,
        method: '',
        path: '',
      });
    },
  });
  return listen(app, rt.config.GATEWAY_PORT, host, {
    limits: httpServerLimits(rt.config),
    trustProxy: rt.config.EDGE_TRUSTED_PROXIES,
  });
}

/** Express's compiled `trust proxy` (proxy-addr): whether the peer at this hop is a trusted proxy. */
function trustFn(app: NestExpressApplication): (address: string, hop: number) => boolean {
  const express = app.getHttpAdapter().getInstance() as { get(name: string): unknown };
  const fn = express.get('trust proxy fn');
  return typeof fn === 'function' ? (fn as (address: string, hop: number) => boolean) : () => false;
}
