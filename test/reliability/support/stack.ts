/**
 * The system under fault: the machine's Postgres (a database of its own), librdkafka's mock cluster with three
 * brokers, the model double in this process (so the suite can make it slow or failing), and the inference proxy
 * and cds-hooks as separate OS processes started from a build, so they can be SIGKILLed, restarted and scaled.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Topics } from '@app/contracts';
import { runMigrations } from '@app/database';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { ensureAppsBuilt } from '../../support/app-build';
import { AppProcess } from '../../support/app-process';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '../../support/kafka-broker/mock-kafka';
import { clientsFile } from '../../support/internal-call';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';
import { TEST_INTERNAL_TOKEN_SECRET } from '../../support/stack-env';

export const ARTIFACTS = path.join(__dirname, '..', '..', 'artifacts', 'reliability');
/** Response budget of the hook services in this suite (HOOK_DEADLINE_MS). */
export const BUDGET_MS = 2_500;
/** Model latency in normal operation: well inside the budget, so a healthy call gets its card. */
export const NORMAL_TTFT_MS = 150;
export const PARTITIONS = 3;

export interface ReliabilityStack {
  readonly db: TestDatabase;
  readonly kafka: MockKafka;
  readonly double: ModelDouble;
  readonly proxyGroupId: string;
  proxy: AppProcess;
  /** cds-hooks replicas currently running, in start order. */
  readonly cds: AppProcess[];
  startProxy(port?: number): Promise<AppProcess>;
  startCdsHooks(): Promise<AppProcess>;
  stop(): Promise<void>;
}

export async function startReliabilityStack(): Promise<ReliabilityStack> {
  const dist = await ensureAppsBuilt();
  const kafka = await startMockKafka({
    brokers: 3,
    topics: [
      { name: Topics.inferenceRequests, partitions: PARTITIONS },
      { name: Topics.inferenceRequestsDeadLetter, partitions: 1 },
    ],
  });
  const db = await createTestDatabase('reliability');
  await runMigrations(db.url);
  const double = await startModelDouble({ flavour: 'vllm', latency: { ttftMs: NORMAL_TTFT_MS, perTokenMs: 0 } });
  const proxyGroupId = `reliability-proxy-${randomUUID().slice(0, 8)}`;
  const common = {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: kafka.bootstrapServers.join(','),
    LOG_LEVEL: process.env.RELIABILITY_LOG_LEVEL ?? 'warn',
    DB_POOL_SIZE: '5',
    // cds-hooks takes only calls carrying the gateway's token (traffic.ts mints it) from a registered client.
    INTERNAL_TOKEN_SECRET: TEST_INTERNAL_TOKEN_SECRET,
    EHR_CLIENTS_FILE: clientsFile([{ id: 'reliability-ehr', issuer: 'https://reliability.test' }]),
  };
  let proxies = 0;
  let replicas = 0;
  const stack: ReliabilityStack = {
    db,
    kafka,
    double,
    proxyGroupId,
    proxy: undefined as unknown as AppProcess,
    cds: [],
    async startProxy(port) {
      proxies += 1;
      stack.proxy = await AppProcess.start({
        dist,
        app: 'inference-proxy',
        logFile: path.join(ARTIFACTS, 'logs', `inference-proxy-${proxies}.log`),
        ...(port !== undefined ? { port } : {}),
        env: {
          ...common,
          KAFKA_GROUP_ID: proxyGroupId,
          KAFKA_MAX_WAIT_MS: String(fastKafkaConsumerConfig.maxWaitTimeInMs),
          KAFKA_SESSION_TIMEOUT_MS: String(fastKafkaConsumerConfig.sessionTimeout),
          KAFKA_HEARTBEAT_MS: String(fastKafkaConsumerConfig.heartbeatInterval),
          INFERENCE_BACKENDS: `vllm=${double.baseUrl}`,
          INFERENCE_CONCURRENCY: '8',
          BACKEND_MAX_ATTEMPTS: '4',
          BACKEND_RETRY_BASE_MS: '100',
          BACKEND_RETRY_MAX_MS: '1000',
          BACKEND_COOLDOWN_MS: '300',
          BACKEND_HEALTH_INTERVAL_MS: '200',
          BACKEND_METRICS_INTERVAL_MS: '500',
          BACKEND_PROBE_TIMEOUT_MS: '500',
          SHUTDOWN_GRACE_MS: '3000',
        },
      });
      return stack.proxy;
    },
    async startCdsHooks() {
      replicas += 1;
      const app = await AppProcess.start({
        dist,
        app: 'cds-hooks',
        logFile: path.join(ARTIFACTS, 'logs', `cds-hooks-${replicas}.log`),
        env: { ...common, HOOK_DEADLINE_MS: String(BUDGET_MS), RESULT_POLL_MS: '200' },
      });
      stack.cds.push(app);
      return app;
    },
    async stop() {
      await Promise.all([...stack.cds.map((c) => c.stop(5_000)), stack.proxy?.stop(5_000)]);
      await double.close();
      await kafka.stop();
      await db.drop();
    },
  };
  try {
    await stack.startProxy();
    await stack.startCdsHooks();
  } catch (e) {
    await stack.stop().catch(() => undefined);
    throw e;
  }
  return stack;
}
