import { isIP } from 'node:net';
import { z } from 'zod';
import { auditWriterOptionsFromEnv } from '@app/audit';
import { parseAlgorithmList } from '@app/auth';
import {
  bodyLimit,
  ConfigError,
  httpUrl,
  internalTokenSecret,
  logLevel,
  httpServerEnv,
  metricsEnv,
  parseEnv,
  port,
  positiveMs,
  postgresUrl,
  preparedStatements,
  type Env,
} from '@app/config';
import { consoleSessionEnv } from './console-session/console-session.config';

const algorithmList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((raw, ctx) => {
      try {
        return parseAlgorithmList(raw);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : 'invalid' });
        return z.NEVER;
      }
    });

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const commaList = z.string().transform((s) =>
  s
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0),
);

/** One `trust proxy` entry as Express (proxy-addr) takes it: a named range, an IP, or a CIDR. */
const proxySpec = z.string().refine((v) => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(v)) return true;
  const [ip, bits, ...rest] = v.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}, 'each entry must be an IP, a CIDR, or one of loopback, linklocal, uniquelocal');

export const gatewayEnv = z
  .object({
    GATEWAY_PORT: port(8080),
    ...metricsEnv(9464),
    ...httpServerEnv(),
    /** URL EHRs use to reach this gateway; the JWT `aud` check compares against it. */
    PUBLIC_BASE_URL: httpUrl.default('http://localhost:8080'),
    /** Where the cds-hooks app listens (cluster-internal). */
    CDS_HOOKS_URL: httpUrl.default('http://127.0.0.1:8081'),
    /** Key of the per-call token cds-hooks requires (the same Secret mounted in both apps). */
    INTERNAL_TOKEN_SECRET: internalTokenSecret,
    /**
     * Longest wait for cds-hooks; keep it above the largest service budget (HOOK_DEADLINE_MS, `budgetMs`). It is
     * sent along (x-meditron-upstream-timeout-ms) and cds-hooks answers no cards 250 ms before it runs out.
     */
    UPSTREAM_TIMEOUT_MS: positiveMs(8000),
    /**
     * Connections to cds-hooks at most (one keep-alive pool); calls beyond them wait for a free one within
     * UPSTREAM_TIMEOUT_MS. Bounds the sockets an overload can open (about 1,150 were seen without a cap).
     */
    CDS_HOOKS_MAX_CONNECTIONS: positiveInt(512),
    BODY_LIMIT: bodyLimit,
    JSON_MAX_DEPTH: positiveInt(64),
    JSON_MAX_ARRAY_LENGTH: positiveInt(10_000),
    DATABASE_URL: postgresUrl.optional(),
    DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
    DB_PREPARED_STATEMENTS: preparedStatements,
    /** JSON registry of EHR clients, read alongside the `ehr_clients` table. */
    EHR_CLIENTS_FILE: z.string().optional(),
    EHR_CLIENTS_REFRESH_MS: positiveMs(30_000),
    JWT_ALGORITHMS: algorithmList('ES384,RS384'),
    JWT_CLOCK_SKEW_S: z.coerce.number().int().min(0).max(600).default(60),
    JWT_MAX_LIFETIME_S: positiveInt(3600),
    JWKS_CACHE_MAX_AGE_MS: positiveMs(600_000),
    JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000),
    JWKS_TIMEOUT_MS: positiveMs(5000),
    REPLAY_PURGE_MS: positiveMs(60_000),
    RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(20),
    RATE_LIMIT_BURST: positiveInt(40),
    /** Proxies whose X-Forwarded-For names the client (IPs, CIDRs, loopback/linklocal/uniquelocal); none by default. */
    EDGE_TRUSTED_PROXIES: commaList.pipe(z.array(proxySpec)).default([]),
    /** Per-source (client IP, IPv6 by /64) limit on every request, before any token is looked at. */
    EDGE_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(50),
    EDGE_RATE_LIMIT_BURST: positiveInt(100),
    /** Sources the per-source limit remembers at most (least recently seen forgotten first). */
    EDGE_MAX_SOURCES: positiveInt(10_000),
    /** Open connections per source (trusted proxies exempt); beyond it new ones are closed at once. */
    EDGE_MAX_CONNECTIONS_PER_SOURCE: positiveInt(128),
    /** Refusals are audited once per (source, reason, window): the first at once, the rest as one counted event. */
    EDGE_REFUSAL_WINDOW_MS: positiveMs(60_000),
    /** (source, reason) windows tracked at most; beyond it refusals are counted per reason only. */
    EDGE_REFUSAL_MAX_PENDING: positiveInt(1_000),
    /** Refusal events in the audit writer's queue at most (the rest of AUDIT_QUEUE_MAX stays for other events). */
    EDGE_REFUSAL_AUDIT_BUDGET: positiveInt(200),
    CORS_ORIGINS: commaList.optional(),
    STAFF_OIDC_ISSUER: z.string().min(1).optional(),
    STAFF_OIDC_JWKS_URL: httpUrl.optional(),
    STAFF_OIDC_AUDIENCE: z.string().min(1).optional(),
    STAFF_ROLES_CLAIM: commaList.default(['roles', 'realm_access.roles']),
    STAFF_OIDC_ALGORITHMS: algorithmList('RS256,ES256,RS384,ES384,PS256'),
    /** Longest lifetime (exp - iat) of a staff access token. */
    STAFF_TOKEN_MAX_LIFETIME_S: positiveInt(3600),
    /** Accepted staff token `typ` values (RFC 9068 `at+jwt`; Keycloak and Entra send `JWT`). */
    STAFF_TOKEN_TYPES: commaList.default(['at+jwt', 'JWT']).refine((l) => l.length > 0, 'list at least one typ'),
    ...consoleSessionEnv,
    LOG_LEVEL: logLevel,
  })
  .superRefine((cfg, ctx) => {
    const staff = [cfg.STAFF_OIDC_ISSUER, cfg.STAFF_OIDC_JWKS_URL, cfg.STAFF_OIDC_AUDIENCE];
    if (staff.some((v) => v !== undefined) && staff.some((v) => v === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['STAFF_OIDC_ISSUER'],
        message: 'set STAFF_OIDC_ISSUER, STAFF_OIDC_JWKS_URL and STAFF_OIDC_AUDIENCE together',
      });
    }
    if (cfg.CONSOLE_OIDC_CLIENT_ID && !cfg.STAFF_OIDC_ISSUER) {
      ctx.addIssue({
        code: 'custom',
        path: ['CONSOLE_OIDC_CLIENT_ID'],
        message: 'console sign-in needs the staff identity provider: set STAFF_OIDC_ISSUER, _JWKS_URL and _AUDIENCE',
      });
    }
  });

export type GatewayConfig = z.infer<typeof gatewayEnv>;

export function loadGatewayConfig(env: Env): GatewayConfig {
  const config = parseEnv('gateway', gatewayEnv, env);
  // Refusals may take a share of the audit queue, never most of it (the writer reads the same environment).
  const { maxQueue } = auditWriterOptionsFromEnv(env);
  if (config.EDGE_REFUSAL_AUDIT_BUDGET > maxQueue / 2) {
    throw new ConfigError('gateway', [
      { variable: 'EDGE_REFUSAL_AUDIT_BUDGET', message: `must be at most half of AUDIT_QUEUE_MAX (${maxQueue})` },
    ]);
  }
  return config;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
