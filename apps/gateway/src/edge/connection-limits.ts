import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { GatewayConfig } from '../gateway.config';
import { sourceKey } from './client-source';
import { GatewayMetrics } from './gateway-metrics.service';
import { RefusalAggregator } from './refusal-aggregator';

export interface ConnectionLimitOptions {
  /** Open connections per source at most; the next one is closed as soon as it is accepted. */
  readonly maxPerSource: number;
  /** True for a peer whose connections carry many clients (a trusted proxy): not limited per source. */
  isTrustedPeer(address: string): boolean;
  onRefused(source: string): void;
}

/**
 * Caps the connections one source holds open (slow or idle ones included), so one client cannot take all of the
 * server's maxConnections. Only sources with connections open are tracked: the table is bounded by maxConnections.
 */
export function limitConnectionsPerSource(server: Server, opts: ConnectionLimitOptions): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address && opts.isTrustedPeer(address)) return;
    const source = sourceKey(address);
    const count = (open.get(source) ?? 0) + 1;
    if (count > opts.maxPerSource) {
      socket.destroy();
      opts.onRefused(source);
      return;
    }
    open.set(source, count);
    socket.once('close', () => {
      const left = (open.get(source) ?? 1) - 1;
      if (left > 0) open.set(source, left);
      else open.delete(source);
    });
  });
}

/** The gateway's per-source connection cap: counted, and audited like any other refusal (aggregated). */
export function applyConnectionLimits(app: NestExpressApplication, config: GatewayConfig): void {
  const metrics = app.get(GatewayMetrics);
  const refusals = app.get(RefusalAggregator);
  limitConnectionsPerSource(app.getHttpServer(), {
    maxPerSource: config.EDGE_MAX_CONNECTIONS_PER_SOURCE,
    // Express's compiled `trust proxy` (set by listen() from EDGE_TRUSTED_PROXIES): a proxy carries many clients.
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
}

function trustFn(app: NestExpressApplication): (address: string, hop: number) => boolean {
  const express = app.getHttpAdapter().getInstance() as { get(name: string): unknown };
  const fn = express.get('trust proxy fn');
  return typeof fn === 'function' ? (fn as (address: string, hop: number) => boolean) : () => false;
}
