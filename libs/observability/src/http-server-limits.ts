import type { Server } from 'node:http';

/** Node HTTP server limits, set explicitly on every app rather than left to Node's defaults. */
export interface HttpServerLimits {
  /** Longest wait for a request's headers once it has begun (slow-header clients). */
  readonly headersTimeoutMs: number;
  /** Longest wait for a whole request, body included (slow-body clients). Not the response: that is each app's own budget. */
  readonly requestTimeoutMs: number;
  /**
   * How long an idle keep-alive connection stays open: above the 60 s idle timeout of common ingress controllers
   * and load balancers, so they never reuse a connection this server has just closed (a 502).
   */
  readonly keepAliveTimeoutMs: number;
  /** Connections open at once; beyond it new ones are dropped, so a flood cannot exhaust file descriptors. */
  readonly maxConnections: number;
}

export const DEFAULT_HTTP_SERVER_LIMITS: HttpServerLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 2_048,
};

/** The limits an app's config (`httpServerEnv()` fields of @app/config) asks for. */
export function httpServerLimits(c: {
  readonly HTTP_HEADERS_TIMEOUT_MS: number;
  readonly HTTP_REQUEST_TIMEOUT_MS: number;
  readonly HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  readonly HTTP_MAX_CONNECTIONS: number;
}): HttpServerLimits {
  if (c.HTTP_HEADERS_TIMEOUT_MS > c.HTTP_REQUEST_TIMEOUT_MS) {
    // Node refuses this pair at server construction; set as properties it would silently mean the request timeout.
    throw new Error('HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  return {
    headersTimeoutMs: c.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: c.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: c.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: c.HTTP_MAX_CONNECTIONS,
  };
}

/** Set before listen(): Node starts its timeout checker when the server starts listening. */
export function applyHttpServerLimits(server: Server, limits: HttpServerLimits = DEFAULT_HTTP_SERVER_LIMITS): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  // Node checks the header and request timeouts only this often (30 s by default, so a 20 s header timeout would
  // really be up to 50 s): a quarter of the shorter timeout keeps the cut-off close to what is configured.
  const checker = server as Server & { connectionsCheckingInterval: number };
  checker.connectionsCheckingInterval = Math.max(
    50,
    Math.min(30_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
  );
}
