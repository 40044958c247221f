/**
 * The single-process stack (tools/local-stack) on a fresh Postgres database, for the in-process probes
 * (bench/hook-roundtrips.ts, bench/hook-stages.ts): ports chosen by the OS, logs off, its own audit spool and dev
 * client, and the internal-token secret so a probe can call cds-hooks directly. `stop()` stops the stack and drops
 * its database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { InternalTokenSigner } from '@app/auth';
import { Topics } from '@app/contracts';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '@app/testing/kafka-broker/mock-kafka';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';

export interface ProbeStack {
  readonly stack: LocalStack;
  /** Signs the internal token cds-hooks expects from the gateway. */
  readonly signer: InternalTokenSigner;
  stop(): Promise<void>;
}

async function adminQuery(admin: string, sql: string): Promise<void> {
  const c = new Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** The librdkafka mock cluster with the inference topics, and the stack's variables for it (as bench/parts/kafka.ts). */
async function kafkaTransport(): Promise<{ kafka: MockKafka; env: Record<string, string> }> {
  const kafka = await startMockKafka({
    brokers: 1,
    topics: [
      { name: Topics.inferenceRequests, partitions: 3 },
      { name: Topics.inferenceRequestsDeadLetter, partitions: 1 },
    ],
  });
  return {
    kafka,
    env: {
      KAFKA_BROKERS: kafka.bootstrapServers.join(','),
      KAFKA_MAX_WAIT_MS: String(fastKafkaConsumerConfig.maxWaitTimeInMs),
      KAFKA_SESSION_TIMEOUT_MS: String(fastKafkaConsumerConfig.sessionTimeout),
      KAFKA_HEARTBEAT_MS: String(fastKafkaConsumerConfig.heartbeatInterval),
    },
  };
}

/**
 * @param name short probe name, used in the database's and the temporary directory's names
 * @param opts.kafka the Kafka transport (a mock cluster; results then announced over Postgres NOTIFY) instead of
 *   the in-process bus
 */
export async function startProbeStack(name: string, opts: { kafka?: boolean } = {}): Promise<ProbeStack> {
  const admin = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `bench_${name}_${randomBytes(4).toString('hex')}`;
  await adminQuery(admin, `CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(admin);
  dbUrl.pathname = `/${dbName}`;
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const secret = randomBytes(32).toString('base64url');
  const transport = opts.kafka ? await kafkaTransport() : undefined;
  const stack = await startLocalStack({
    env: {
      ...transport?.env,
      LOG_LEVEL: 'silent',
      DATABASE_URL: dbUrl.toString(),
      GATEWAY_PORT: '0',
      CDS_HOOKS_PORT: '0',
      INFERENCE_PROXY_PORT: '0',
      METRICS_PORT: '0',
      DEV_IDP_PORT: '0',
      INTERNAL_TOKEN_SECRET: secret,
      AUDIT_SPOOL_DIR: join(dir, 'spool'),
    },
    devClientDir: join(dir, 'dev-client'),
    modelDoublePort: 0,
  });
  return {
    stack,
    signer: new InternalTokenSigner(secret),
    stop: async () => {
      await stack.stop();
      await transport?.kafka.stop();
      await adminQuery(admin, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    },
  };
}
