import { z } from 'zod';
import { kafkaBrokers, logLevel, parseEnv, port, positiveMs, postgresUrl, type Env } from '@app/config';

export const cdsHooksEnv = z.object({
  CDS_HOOKS_PORT: port(8081),
  DATABASE_URL: postgresUrl.optional(),
  KAFKA_BROKERS: kafkaBrokers.optional(),
  KAFKA_CLIENT_ID: z.string().default('meditron-cds-hooks'),
  INFERENCE_MODEL: z.string().min(1).default('meditron-70b'),
  /** How long a hook call waits for the model before answering with no cards (the result is still stored). */
  HOOK_DEADLINE_MS: positiveMs(4000),
  /** Safety net under the result notifications: how often pending results are looked up. */
  RESULT_POLL_MS: positiveMs(250),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  LOG_LEVEL: logLevel,
});

export type CdsHooksConfig = z.infer<typeof cdsHooksEnv>;

export function loadCdsHooksConfig(env: Env): CdsHooksConfig {
  return parseEnv('cds-hooks', cdsHooksEnv, env);
}

export const CDS_HOOKS_CONFIG = Symbol('CDS_HOOKS_CONFIG');
