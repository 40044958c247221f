import { z } from 'zod';
import {
  inferenceBackends,
  kafkaBrokers,
  kafkaSecurityEnv,
  saslComplete,
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
import { keyPoliciesSchema, unknownPolicyCallers } from './facade/facade-policy';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const inferenceProxyEnv = z
  .object({
    INFERENCE_PROXY_PORT: port(8082),
    ...metricsEnv(9466),
    ...httpServerEnv(),
    DATABASE_URL: postgresUrl.optional(),
    KAFKA_BROKERS: kafkaBrokers.optional(),
    ...kafkaSecurityEnv,
    KAFKA_CLIENT_ID: z.string().default('meditron-inference-proxy'),
    KAFKA_GROUP_ID: z.string().default('meditron-inference-proxy'),
    /** Longest a Kafka fetch waits when the topic is idle; also bounds how fast an idle consumer notices new work. */
    KAFKA_MAX_WAIT_MS: int(1, 10_000, 100),
    /** Consumer session timeout; the consumer heartbeats during long inferences, so this need not cover a 70B call. */
    KAFKA_SESSION_TIMEOUT_MS: int(1000, 300_000, 30_000),
    KAFKA_HEARTBEAT_MS: int(50, 60_000, 3_000),
    INFERENCE_BACKENDS: inferenceBackends.optional(),
    INFERENCE_MODEL: z.string().min(1).default('meditron-70b'),
    /** Inferences run at once by this replica. */
    INFERENCE_CONCURRENCY: int(1, 256, 4),
    /**
     * Requests held waiting for a slot (by priority) before the consumer pauses its partitions; beyond it (the
     * in-process bus cannot pause) a request is recorded expired (`queue_full`) at once.
     */
    INFERENCE_QUEUE_CAPACITY: int(0, 10_000, 16),
    /**
     * Most requests one engine is given at once by this replica; all engines at this bound = saturated. Keep
     * it x the engines (discovered ones included) at or above INFERENCE_CONCURRENCY; the proxy warns when not.
     */
    BACKEND_MAX_OUTSTANDING: int(1, 1024, 8),
    /**
     * Keep-alive connections to one engine at most (model calls and facade relays share them); a call beyond waits
     * for a free one inside its timeout. Unset: twice BACKEND_MAX_OUTSTANDING, which already bounds the calls one
     * engine gets, so the cap only holds sockets still closing after aborted calls. At least BACKEND_MAX_OUTSTANDING:
     * below it, calls the pool admitted would queue here, out of sight of its routing.
     */
    BACKEND_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(8192).optional(),
    /** Upper bound on one backend call, whatever the request's deadline. */
    BACKEND_TIMEOUT_MS: positiveMs(120_000),
    /** Backend calls per request (first try + retries on other backends), all inside the deadline. */
    BACKEND_MAX_ATTEMPTS: int(1, 10, 3),
    /** First retry delay; doubles per attempt, with full jitter. */
    BACKEND_RETRY_BASE_MS: int(1, 60_000, 100),
    BACKEND_RETRY_MAX_MS: int(1, 300_000, 2_000),
    /** How long a backend is skipped after a 429/503/timeout (doubles on repeats, up to 8x). */
    BACKEND_COOLDOWN_MS: int(1, 600_000, 5_000),
    /** Interval of `/health` + `/v1/models` probes; a failing probe ejects the backend, a passing one readmits it. */
    BACKEND_HEALTH_INTERVAL_MS: int(50, 600_000, 5_000),
    /** Interval of re-resolving `dns+` INFERENCE_BACKENDS entries (engines added, drained as the pool scales). */
    BACKEND_DISCOVERY_INTERVAL_MS: int(100, 600_000, 5_000),
    /** Interval of `/metrics` scrapes (queue depth, running, KV-cache use). */
    BACKEND_METRICS_INTERVAL_MS: int(50, 600_000, 2_000),
    /** Timeout of one probe or scrape. */
    BACKEND_PROBE_TIMEOUT_MS: int(10, 60_000, 2_000),
    /** How long identical answers are served from memory; 0 disables the cache. */
    INFERENCE_CACHE_TTL_MS: int(0, 86_400_000, 300_000),
    INFERENCE_CACHE_MAX_ENTRIES: int(1, 1_000_000, 1_000),
    /** Result rows buffered in memory for batched writes; the request path waits (never drops) beyond this. */
    RESULT_QUEUE_CAPACITY: int(1, 100_000, 1_000),
    RESULT_BATCH_SIZE: int(1, 1_000, 50),
    /** Longest a result waits for companions before its batch is written. */
    RESULT_FLUSH_MS: int(0, 10_000, 20),
    /** Batches written at once (connections the writer takes from the pool). */
    RESULT_WRITE_CONCURRENCY: int(1, 16, 2),
    /** Bearer keys of the OpenAI-compatible facade (`/v1/...`), comma-separated; unset = facade off. */
    FACADE_API_KEYS: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((k) => k.trim())
          .filter((k) => k.length > 0),
      )
      .optional(),
    /** Facade governance (see facade/facade-governance.ts): one fixed window per key for both limits. */
    FACADE_WINDOW_MS: int(1_000, 86_400_000, 60_000),
    FACADE_REQUESTS_PER_WINDOW: int(1, 1_000_000, 60),
    /** Generation tokens a key may reserve per window (max_tokens x max(n, best_of); settled to usage when known). */
    FACADE_TOKENS_PER_WINDOW: int(1, 1_000_000_000, 200_000),
    /** Largest `max_tokens` / `max_completion_tokens` a caller may ask; also sent when the caller names none. */
    FACADE_MAX_TOKENS: int(1, 1_000_000, 2048),
    FACADE_MAX_N: int(1, 128, 4),
    FACADE_MAX_BEST_OF: int(1, 128, 4),
    /** Per-key overrides, JSON keyed by caller id: {"key:0123456789ab": {"requestsPerWindow": 10, "priority": true}}. */
    FACADE_KEY_POLICIES: keyPoliciesSchema,
    /** On shutdown, how long in-flight inferences may finish before the consumer leaves the group. */
    SHUTDOWN_GRACE_MS: int(0, 600_000, 10_000),
    DB_POOL_SIZE: int(1, 100, 10),
    DB_PREPARED_STATEMENTS: preparedStatements,
    LOG_LEVEL: logLevel,
  })
  .refine(saslComplete, {
    message: 'set KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD together',
    path: ['KAFKA_SASL_MECHANISM'],
  })
  .refine((c) => c.BACKEND_MAX_CONNECTIONS === undefined || c.BACKEND_MAX_CONNECTIONS >= c.BACKEND_MAX_OUTSTANDING, {
    message: 'BACKEND_MAX_CONNECTIONS must be at least BACKEND_MAX_OUTSTANDING',
    path: ['BACKEND_MAX_CONNECTIONS'],
  })
  .refine((c) => unknownPolicyCallers(c.FACADE_API_KEYS ?? [], c.FACADE_KEY_POLICIES).length === 0, {
    message: 'FACADE_KEY_POLICIES names a caller id that no key in FACADE_API_KEYS has',
    path: ['FACADE_KEY_POLICIES'],
  });

export type InferenceProxyConfig = z.infer<typeof inferenceProxyEnv>;

export function loadInferenceProxyConfig(env: Env): InferenceProxyConfig {
  return parseEnv('inference-proxy', inferenceProxyEnv, env);
}

export const INFERENCE_PROXY_CONFIG = Symbol('INFERENCE_PROXY_CONFIG');
