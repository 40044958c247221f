import { ModuleRef } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { Logger as PinoLogger } from 'nestjs-pino';
import { storage, Store } from 'nestjs-pino/storage';
import type { Logger as Pino } from 'pino';
import { APP_PINO } from './logger.module';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { applyHttpServerLimits, DEFAULT_HTTP_SERVER_LIMITS, type HttpServerLimits } from './http-server-limits';
import { MetricsServer } from './metrics-server';

export interface RunningApp {
  readonly app: INestApplication;
  /** Base URL the app listens on, e.g. http://127.0.0.1:8081 */
  readonly url: string;
  /** Base URL of the separate metrics listener (`GET /metrics`), when the app has one. */
  readonly metricsUrl?: string;
  close(): Promise<void>;
}

/**
 * Routes Nest's logs through the app's pino logger (redaction, request ids). Call before anything that starts
 * the app (init, microservices): starting flushes the buffered boot logs to whatever logger is set then.
 */
export function useAppLogger(app: INestApplication): void {
  app.useLogger(app.get(PinoLogger));
  // What the app starts from here on (lifecycle hooks, timers, consumers, the server's connections) logs through its
  // own logger, not the process-wide one nestjs-pino falls back to (the first app's, in the single-process stack).
  const own = appPino(app);
  if (own) storage.enterWith(new Store(own));
}

function appPino(app: INestApplication): Pino | undefined {
  try {
    return app.get(ModuleRef).get<Pino>(APP_PINO, { strict: false });
  } catch {
    return undefined;
  }
}

export interface ListenOptions {
  /** Server timeouts and connection cap (each app's `httpServerEnv()` settings); Node's own defaults are never used. */
  readonly limits?: HttpServerLimits;
  /**
   * Peers whose X-Forwarded-For is believed (Express `trust proxy`: IPs, CIDRs, `loopback`, `uniquelocal`, ...), so
   * `req.ip` is the client behind them. Empty (the default): no proxy is trusted, `req.ip` is the socket peer.
   */
  readonly trustProxy?: readonly string[];
}

/** Common HTTP hardening (server timeouts and connection cap included) and listen, for the three apps. */
export async function listen(
  app: NestExpressApplication,
  port: number,
  host: string,
  opts: ListenOptions = {},
): Promise<RunningApp> {
  useAppLogger(app);
  app.disable('x-powered-by');
  app.set('trust proxy', opts.trustProxy && opts.trustProxy.length > 0 ? [...opts.trustProxy] : false);
  applyHttpServerLimits(app.getHttpServer(), opts.limits ?? DEFAULT_HTTP_SERVER_LIMITS);
  await app.listen(port, host);
  const address = app.getHttpServer().address() as { port: number } | string | null;
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const metricsUrl = metricsServerOf(app)?.url;
  return {
    app,
    url: `http://${shownHost}:${actualPort}`,
    ...(metricsUrl ? { metricsUrl } : {}),
    close: () => app.close(),
  };
}

function metricsServerOf(app: INestApplication): MetricsServer | undefined {
  // Through ModuleRef: the app object's own get() runs in Nest's exceptions zone, which exits the process
  // on an unknown provider instead of throwing.
  try {
    return app.get(ModuleRef).get(MetricsServer, { strict: false });
  } catch {
    return undefined; // an app without MetricsServerModule
  }
}
