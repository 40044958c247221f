import { z } from 'zod';
import {
  inferenceBackends,
  kafkaBrokers,
  logLevel,
  parseEnv,
  port,
  positiveMs,
  postgresUrl,
  type Env,
} from '@app/config';

export const inferenceProxyEnv = z.object({
  INFERENCE_PROXY_PORT: port(8082),
  DATABASE_URL: postgresUrl.optional(),
  KAFKA_BROKERS: kafkaBrokers.optional(),
  KAFKA_CLIENT_ID: z.string().default('meditron-inference-proxy'),
  KAFKA_GROUP_ID: z.string().default('meditron-inference-proxy'),
  /** Longest a Kafka fetch waits when the topic is idle; also bounds how fast an idle consumer notices new work. */
  KAFKA_MAX_WAIT_MS: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Consumer session timeout; the consumer heartbeats during long inferences, so this need not cover a 70B call. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300_000).default(30_000),
  KAFKA_HEARTBEAT_MS: z.coerce.number().int().min(50).max(60_000).default(3_000),
  INFERENCE_BACKENDS: inferenceBackends.optional(),
  INFERENCE_MODEL: z.string().min(1).default('meditron-70b'),
  /** Inferences run at once by this replica. */
  INFERENCE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  /** Upper bound on one backend call, whatever the request's deadline. */
  BACKEND_TIMEOUT_MS: positiveMs(120_000),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  LOG_LEVEL: logLevel,
});

export type InferenceProxyConfig = z.infer<typeof inferenceProxyEnv>;

export function loadInferenceProxyConfig(env: Env): InferenceProxyConfig {
  return parseEnv('inference-proxy', inferenceProxyEnv, env);
}

export const INFERENCE_PROXY_CONFIG = Symbol('INFERENCE_PROXY_CONFIG');
