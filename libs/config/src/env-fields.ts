import { z } from 'zod';
import { parseBackends } from './inference-backends';

/** Reusable environment fields; each app composes the ones it reads. */
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/**
 * DB_PREPARED_STATEMENTS: the hook path's statements as named prepared statements (libs/database hot-query.ts).
 * `false` for a pooler that cannot carry them (PgBouncer in transaction mode before 1.21).
 */
export const preparedStatements = z
  .enum(['true', 'false'])
  .default('true')
  .transform((v) => v === 'true');

export const positiveMs = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const httpUrl = z
  .string()
  .url('must be an absolute URL')
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL')
  .transform((u) => u.replace(/\/+$/, ''));

export const postgresUrl = z
  .string()
  .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// or postgresql:// URL');

export const kafkaBrokers = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0),
  )
  .refine((list) => list.length > 0, 'must list at least one host:port')
  .refine((list) => list.every((b) => /^[^\s:/]+:\d{1,5}$/.test(b)), 'each broker must be host:port');

export const inferenceBackends = z.string().transform((raw, ctx) => {
  const parsed = parseBackends(raw);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return parsed.backends;
});

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/**
 * INTERNAL_TOKEN_SECRET: the HS256 key the gateway signs its per-call internal tokens with and cds-hooks checks
 * them with. Base64url of at least 32 random bytes (`openssl rand -base64 32 | tr '+/' '-_' | tr -d =`).
 */
export const internalTokenSecret = z
  .string()
  .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url')
  .refine((s) => Buffer.from(s, 'base64url').length >= 32, 'must decode to at least 32 bytes');

/**
 * BODY_LIMIT: largest CDS Hooks request body, read by the gateway (413 at the edge) and cds-hooks (its body parser),
 * from one setting so the two never disagree (a body the gateway forwards is never too large for cds-hooks).
 */
export const bodyLimit = z
  .string()
  .regex(/^\d+(kb|mb)$/, 'must look like 512kb or 5mb')
  .default('5mb');

/**
 * The Prometheus metrics listener, apart from the app port so an Ingress routing the app port never exposes it.
 * 0 = any free port (tests); there is no "off": a scrape target that answers nothing pages someone.
 */
export const metricsEnv = (fallbackPort: number) => ({
  METRICS_PORT: port(fallbackPort),
  /** Bind address of the metrics listener (Prometheus scrapes the pod IP, so all interfaces by default). */
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
});

/**
 * Node HTTP server limits of the app port, explicit rather than Node's defaults (see @app/observability
 * httpServerLimits): slow-header and slow-body clients are cut off, idle keep-alive connections closed, and the
 * number of open connections capped.
 */
export const httpServerEnv = () => ({
  /** Longest wait for a request's headers (slowloris); answered 408 and closed. */
  HTTP_HEADERS_TIMEOUT_MS: positiveMs(20_000),
  /** Longest wait for a whole request, body included. */
  HTTP_REQUEST_TIMEOUT_MS: positiveMs(30_000),
  /** Idle keep-alive connections closed after this; above the 60 s idle timeout of common load balancers. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveMs(65_000),
  /** Connections open at once; new ones beyond it are dropped. */
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().positive().default(2_048),
});
