import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Global,
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Injection token of the app's one Prometheus registry (every metric of the app registers on it). */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
const METRICS_SERVER_OPTIONS = Symbol('METRICS_SERVER_OPTIONS');

export interface MetricsServerOptions {
  /** Value of the `app` label on every series (gateway, cds-hooks, inference-proxy). */
  readonly app: string;
  readonly port: number;
  readonly host: string;
}

/**
 * A registry of its own per app (several apps share one process in the local stack and in tests). Only the default
 * process metrics carry `app` (the app's own series keep their names and labels; Prometheus adds job and pod).
 */
export function appRegistry(app: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, labels: { app } });
  return registry;
}

/**
 * Serves `GET /metrics` on its own port with plain node:http: nothing of the app's HTTP stack (auth, body
 * parsing, routes) is reachable there, and the app port (the one an Ingress routes) has no metrics.
 */
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MetricsServer');
  private server: Server | undefined;

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(METRICS_SERVER_OPTIONS) private readonly opts: MetricsServerOptions,
  ) {}

  /** Base URL once listening, e.g. http://127.0.0.1:9464 */
  get url(): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    const host = this.opts.host === '0.0.0.0' || this.opts.host === '::' ? '127.0.0.1' : this.opts.host;
    return `http://${host}:${address.port}`;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: unknown) => {
          this.logger.error(`metrics collection failed: ${e instanceof Error ? e.message : 'unknown'}`);
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
    });
    // Scrapes are short: do not let an idle keep-alive socket hold shutdown.
    server.keepAliveTimeout = 5_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.logger.log(`metrics on ${this.url ?? '?'}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** The app's registry (global, so feature modules inject METRICS_REGISTRY) and its metrics listener. */
@Global()
@Module({})
export class MetricsServerModule {
  static forRoot(opts: MetricsServerOptions): DynamicModule {
    return {
      module: MetricsServerModule,
      providers: [
        { provide: METRICS_SERVER_OPTIONS, useValue: opts },
        { provide: METRICS_REGISTRY, useFactory: () => appRegistry(opts.app) },
        MetricsServer,
      ],
      exports: [METRICS_REGISTRY, MetricsServer],
    };
  }
}
