import { z } from 'zod';
import { MODEL_PROFILES, type ModelProfile } from '@app/prompts';
import {
  bodyLimit,
  internalTokenSecret,
  kafkaBrokers,
  kafkaSecurityEnv,
  logLevel,
  httpServerEnv,
  metricsEnv,
  parseEnv,
  port,
  positiveMs,
  postgresUrl,
  preparedStatements,
  saslComplete,
  type Env,
} from '@app/config';

export const cdsHooksEnv = z
  .object({
    CDS_HOOKS_PORT: port(8081),
    ...metricsEnv(9465),
    ...httpServerEnv(),
    DATABASE_URL: postgresUrl.optional(),
    KAFKA_BROKERS: kafkaBrokers.optional(),
    ...kafkaSecurityEnv,
    KAFKA_CLIENT_ID: z.string().default('meditron-cds-hooks'),
    INFERENCE_MODEL: z.string().min(1).default('meditron-70b'),
    /** How to prompt the served model; by default guessed from INFERENCE_MODEL (llama-3 -> llama-3-meditron). */
    MODEL_PROFILE: z.enum(['meditron-70b', 'llama-3-meditron']).optional(),
    /** Default response budget of a service (a service's `budgetMs` overrides it): past it the hook answers with no cards. */
    HOOK_DEADLINE_MS: positiveMs(4000),
    /**
     * Hook calls this replica works on at once; a call over it is answered `{"cards": []}` at once and counted in
     * meditron_hooks_shed_total (reason in_flight_limit). A call counts until its work is done. 0 = no limit.
     */
    HOOK_MAX_IN_FLIGHT: z.coerce.number().int().min(0).max(100_000).default(128),
    /**
     * Mean event-loop delay (ms, over 0.5 s) above which new hook calls are shed (reason event_loop_delay): the
     * replica is too busy to answer within budget. 0 = off.
     */
    HOOK_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
    /** How long an inference may run in the background after its hook answered; its result serves the next call. */
    INFERENCE_DEADLINE_MS: positiveMs(120_000),
    /** How often the outbox relay publishes requests the hook path could not (a broker outage), or expires them. */
    OUTBOX_RELAY_MS: positiveMs(1000),
    /** A stored result for the same prompt is reused (no model run) while younger than this. */
    RESULT_FRESH_MS: z.coerce.number().int().min(0).default(600_000),
    /** Service catalog (JSON); the shipped one is apps/cds-hooks/config/cds-services.json. */
    CDS_SERVICES_FILE: z.string().min(1).optional(),
    /** EHR client registry (JSON, shared with the gateway): which FHIR servers may be called for which client. */
    EHR_CLIENTS_FILE: z.string().min(1).optional(),
    /** How often the EHR client registry is reloaded in the background (the gateway honours the same variable). */
    EHR_CLIENTS_REFRESH_MS: positiveMs(30_000),
    /** Key of the gateway's per-call token (same Secret as the gateway's): calls without a valid one are refused. */
    INTERNAL_TOKEN_SECRET: internalTokenSecret,
    /** Largest request body: the gateway's BODY_LIMIT (one setting for both; the chart renders it for both). */
    BODY_LIMIT: bodyLimit,
    /**
     * Hosts a card's Markdown may link to (comma-separated, https only, e.g. `www.uptodate.com,www.nice.org.uk`).
     * Default none: every link in model text becomes plain text (see cards/card-markdown.ts).
     */
    CARD_LINK_HOSTS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean),
      )
      .pipe(
        z.array(z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'a host name')),
      ),
    FHIR_TIMEOUT_MS: positiveMs(3000),
    FHIR_MAX_PAGES: z.coerce.number().int().min(1).max(50).default(5),
    /** Safety net under the result notifications: how often pending results are looked up. */
    RESULT_POLL_MS: positiveMs(250),
    DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
    DB_PREPARED_STATEMENTS: preparedStatements,
    LOG_LEVEL: logLevel,
  })
  .refine(saslComplete, {
    message: 'set KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD together',
    path: ['KAFKA_SASL_MECHANISM'],
  });

export type CdsHooksConfig = z.infer<typeof cdsHooksEnv>;

export function loadCdsHooksConfig(env: Env): CdsHooksConfig {
  return parseEnv('cds-hooks', cdsHooksEnv, env);
}

export function modelProfileOf(config: CdsHooksConfig): ModelProfile {
  const id = config.MODEL_PROFILE ?? (/llama-?3/i.test(config.INFERENCE_MODEL) ? 'llama-3-meditron' : 'meditron-70b');
  return MODEL_PROFILES[id];
}

export const CDS_HOOKS_CONFIG = Symbol('CDS_HOOKS_CONFIG');
