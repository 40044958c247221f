/**
 * The system under fault: a Postgres server of the suite's own (so it can be stopped and restarted whole),
 * librdkafka's mock cluster with three brokers, the model double in this process (so the suite can make it slow
 * or failing), and the gateway, the inference proxy and cds-hooks as separate OS processes started from a build,
 * so they can be SIGKILLed, restarted and scaled.
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
import type { TestKey } from '../../support/ehr-tokens';
import type { TestDatabase } from '../../support/postgres';
import { runtimeUrls, type RuntimeUrls } from '../../support/runtime-roles';
import { TEST_INTERNAL_TOKEN_SECRET } from '../../support/stack-env';
import { startOwnPostgres, type OwnPostgres } from './own-postgres';

export const ARTIFACTS = path.join(__dirname, '..', '..', 'artifacts', 'reliability');
/** Response budget of the hook services in this suite (HOOK_DEADLINE_MS). */
export const BUDGET_MS = 2_500;
/** Model latency in normal operation: well inside the budget, so a healthy call gets its card. */
export const NORMAL_TTFT_MS = 150;
export const PARTITIONS = 3;

/** The EHR client the traffic speaks as (through the gateway with its JWT, or straight with a gateway token). */
export const EHR_CLIENT = { id: 'reliability-ehr', issuer: 'https://reliability.test' } as const;
export const PUBLIC_BASE_URL = 'https://cds.reliability.test';

export interface ReliabilityStack {
  readonly pg: OwnPostgres;
  /** The owner's URL: migrations and the suite's own ledger queries. */
  readonly db: TestDatabase;
  /** Each app's runtime login on `db` (members of the migrations' group roles, never the owner), as the chart runs them. */
  readonly appUrls: RuntimeUrls;
  /** Where the apps spool audit events (AUDIT_SPOOL_DIR). */
  readonly spoolDir: string;
  readonly kafka: MockKafka;
  readonly double: ModelDouble;
  readonly proxyGroupId: string;
  proxy: AppProcess;
  /** cds-hooks replicas currently running, in start order. */
  readonly cds: AppProcess[];
  startProxy(port?: number): Promise<AppProcess>;
  startCdsHooks(env?: Record<string, string>): Promise<AppProcess>;
  /** The gateway in front of `cds` (on `port` for a restart), the EHR client registered with `key`. */
  startGateway(cds: AppProcess, key: TestKey, port?: number): Promise<AppProcess>;
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
  const pg = await startOwnPostgres();
  const dbUrl = await pg.createDatabase('reliability');
  const db: TestDatabase = { url: dbUrl, name: 'reliability', drop: () => pg.destroy() };
  await runMigrations(db.url);
  // Logins are cluster-wide roles, so this server needs its own (issue 14); every app process signs in as one.
  const appUrls = await runtimeUrls(db.url);
  const spoolDir = path.join(pg.root, 'spool');
  const double = await startModelDouble({ flavour: 'vllm', latency: { ttftMs: NORMAL_TTFT_MS, perTokenMs: 0 } });
  const proxyGroupId = `reliability-proxy-${randomUUID().slice(0, 8)}`;
  const common = {
    KAFKA_BROKERS: kafka.bootstrapServers.join(','),
    LOG_LEVEL: process.env.RELIABILITY_LOG_LEVEL ?? 'warn',
    DB_POOL_SIZE: '5',
    AUDIT_SPOOL_DIR: spoolDir,
    // A caller waits at most this for its audit commit; past it the event is in the spool (durable) and it goes on.
    AUDIT_MAX_WAIT_MS: '500',
    // cds-hooks takes only calls carrying the gateway's token (traffic.ts mints it) from a registered client.
    INTERNAL_TOKEN_SECRET: TEST_INTERNAL_TOKEN_SECRET,
    EHR_CLIENTS_FILE: clientsFile([{ ...EHR_CLIENT }]),
  };
  let proxies = 0;
  let replicas = 0;
  let gateways = 0;
  const stack: ReliabilityStack = {
    pg,
    db,
    appUrls,
    spoolDir,
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
          DATABASE_URL: appUrls.inferenceProxy,
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
    async startCdsHooks(env = {}) {
      replicas += 1;
      const app = await AppProcess.start({
        dist,
        app: 'cds-hooks',
        logFile: path.join(ARTIFACTS, 'logs', `cds-hooks-${replicas}.log`),
        env: {
          ...common,
          DATABASE_URL: appUrls.cdsHooks,
          HOOK_DEADLINE_MS: String(BUDGET_MS),
          RESULT_POLL_MS: '200',
          OUTBOX_RELAY_MS: '500',
          ...env,
        },
      });
      stack.cds.push(app);
      return app;
    },
    async startGateway(cds, key, port) {
      gateways += 1;
      // The gateway's registry with the client's key (cds-hooks' own file only names the client).
      const clients = clientsFile([
        {
          ...EHR_CLIENT,
          tenant: 'reliability',
          jwks: { keys: [{ ...key.publicJwk }] },
          allowedJku: [],
          services: ['*'],
          fhirBaseUrls: [],
          rateLimit: { perSecond: 1000, burst: 1000 },
        },
      ]);
      return AppProcess.start({
        dist,
        app: 'gateway',
        logFile: path.join(ARTIFACTS, 'logs', `gateway-${gateways}.log`),
        ...(port !== undefined ? { port } : {}),
        env: {
          ...common,
          DATABASE_URL: appUrls.gateway,
          EHR_CLIENTS_FILE: clients,
          CDS_HOOKS_URL: cds.url,
          PUBLIC_BASE_URL,
        },
      });
    },
    async stop() {
      await Promise.all([...stack.cds.map((c) => c.stop(5_000)), stack.proxy?.stop(5_000)]);
      await double.close();
      await kafka.stop();
      await pg.destroy();
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
