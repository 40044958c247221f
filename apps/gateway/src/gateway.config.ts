import { z } from 'zod';
import { httpUrl, logLevel, parseEnv, port, positiveMs, type Env } from '@app/config';

export const gatewayEnv = z.object({
  GATEWAY_PORT: port(8080),
  /** URL EHRs use to reach this gateway; the JWT `aud` check compares against it. */
  PUBLIC_BASE_URL: httpUrl.default('http://localhost:8080'),
  /** Where the cds-hooks app listens (cluster-internal). */
  CDS_HOOKS_URL: httpUrl.default('http://127.0.0.1:8081'),
  /** Longest wait for cds-hooks; above HOOK_DEADLINE_MS so cds-hooks answers first. */
  UPSTREAM_TIMEOUT_MS: positiveMs(8000),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)$/, 'must look like 512kb or 5mb')
    .default('5mb'),
  LOG_LEVEL: logLevel,
});

export type GatewayConfig = z.infer<typeof gatewayEnv>;

export function loadGatewayConfig(env: Env): GatewayConfig {
  return parseEnv('gateway', gatewayEnv, env);
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
