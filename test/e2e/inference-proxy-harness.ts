import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Topics, toWireHeaders, INFERENCE_REQUEST_SCHEMA, type InferenceRequestV1 } from '@app/contracts';
import type { BackendTarget, Env } from '@app/config';
import { runMigrations } from '@app/database';
import { INFERENCE_REQUEST_SOURCE, KafkaRequestSource } from '@app/messaging';
import type { RunningApp } from '@app/observability';
import type { ResolveHost } from '../../apps/inference-proxy/src/backends/backend-discovery.service';
import { startInferenceProxy } from '../../apps/inference-proxy/src/bootstrap';
import { loadInferenceProxyConfig } from '../../apps/inference-proxy/src/inference-proxy.config';
import { inferenceRequest } from '../../apps/inference-proxy/src/testing/inference-request.fixture';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '../support/kafka-broker/mock-kafka';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';

export { inferenceRequest };

/** The inference proxy alone, on the real mock broker and Postgres, fed by a test producer. */
export interface ProxyHarness {
  readonly kafka: MockKafka;
  readonly db: TestDatabase;
  readonly proxy: RunningApp;
  readonly source: KafkaRequestSource;
  /** Stores the request rows cds-hooks would store, then publishes the message(s). */
  publish(
    requests: ReadonlyArray<InferenceRequestV1>,
    opts?: { deadlineMs?: number; copies?: number; skipRows?: boolean },
  ): Promise<void>;
  publishRaw(value: string, headers: Record<string, string>): Promise<void>;
  /** Waits until every request id has a result row; returns the rows. */
  results(ids: ReadonlyArray<string>, timeoutMs?: number): Promise<ResultRow[]>;
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

export interface ResultRow extends Record<string, unknown> {
  request_id: string;
  outcome: string;
  backend: string | null;
  error_code: string | null;
  served_from: string | null;
  attempts: number | null;
  hook_instance: string | null;
  model: string | null;
  template_version: string | null;
  prompt_hash: string | null;
  tokens_in: number | null;
  tokens_out: number | null;
  latency_ms: number;
  status: string;
}

/**
 * `reuse`: a broker and database owned by another harness (a second proxy replica); left running on stop.
 * `resolveHost`: answers for `dns+` backends in place of the system resolver.
 */
export async function startProxyHarness(
  backends: ReadonlyArray<BackendTarget>,
  env: Env,
  reuse?: { kafka: MockKafka; db: TestDatabase },
  resolveHost?: ResolveHost,
): Promise<ProxyHarness> {
  const kafka =
    reuse?.kafka ??
    (await startMockKafka({
      brokers: 1,
      topics: [
        { name: Topics.inferenceRequests, partitions: 3 },
        { name: Topics.inferenceRequestsDeadLetter, partitions: 1 },
      ],
    }));
  const db = reuse?.db ?? (await createTestDatabase('e2e_proxy'));
  if (!reuse) await runMigrations(db.url);
  const config = loadInferenceProxyConfig({
    LOG_LEVEL: 'error',
    INFERENCE_PROXY_PORT: '0',
    METRICS_PORT: '0',
    DATABASE_URL: db.url,
    KAFKA_BROKERS: kafka.bootstrapServers.join(','),
    KAFKA_GROUP_ID: `e2e-proxy-${randomUUID()}`,
    KAFKA_MAX_WAIT_MS: String(fastKafkaConsumerConfig.maxWaitTimeInMs),
    KAFKA_SESSION_TIMEOUT_MS: String(fastKafkaConsumerConfig.sessionTimeout),
    KAFKA_HEARTBEAT_MS: String(fastKafkaConsumerConfig.heartbeatInterval),
    SHUTDOWN_GRACE_MS: '2000',
    ...env,
  });
  const proxy = await startInferenceProxy(
    { config, databaseUrl: db.url, backends, ...(resolveHost ? { resolveHost } : {}) },
    '127.0.0.1',
  );
  const source: unknown = proxy.app.get(INFERENCE_REQUEST_SOURCE);
  if (!(source instanceof KafkaRequestSource)) throw new Error('expected the Kafka source');
  const client = new Kafka({
    clientId: 'e2e-proxy-producer',
    brokers: kafka.bootstrapServers,
    logLevel: logLevel.NOTHING,
  });
  const producer: Producer = client.producer();
  await producer.connect();

  async function storeRows(requests: ReadonlyArray<InferenceRequestV1>, deadlineMs: number): Promise<void> {
    for (const r of requests) {
      const invocation = randomUUID();
      await queryRows(
        db.url,
        `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, status, received_at)
         VALUES ($1, $2, $3, $4, $5, 'received', now())`,
        [invocation, r.hookInstance, r.hook, r.serviceId, r.requestId],
      );
      await queryRows(
        db.url,
        `INSERT INTO inference_requests
           (request_id, hook_invocation_id, model, template_version, prompt_hash, priority, status, deadline_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, now())`,
        [r.requestId, invocation, r.model, r.templateVersion, r.promptHash, r.priority, new Date(deadlineMs)],
      );
    }
  }

  return {
    kafka,
    db,
    proxy,
    source,
    async publish(requests, opts = {}) {
      const deadlineMs = opts.deadlineMs ?? Date.now() + 60_000;
      if (!opts.skipRows) await storeRows(requests, deadlineMs);
      const messages = requests.flatMap((r) =>
        Array.from({ length: opts.copies ?? 1 }, () => ({
          key: r.requestId,
          value: JSON.stringify(r),
          headers: toWireHeaders({ correlationId: r.requestId, deadlineMs, schema: INFERENCE_REQUEST_SCHEMA }),
        })),
      );
      await producer.send({ topic: Topics.inferenceRequests, acks: -1, messages });
    },
    async publishRaw(value, headers) {
      await producer.send({
        topic: Topics.inferenceRequests,
        acks: -1,
        messages: [{ key: randomUUID(), value, headers }],
      });
    },
    async results(ids, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const rows = await queryRows<ResultRow>(
          db.url,
          `SELECT res.*, req.status FROM inference_results res JOIN inference_requests req USING (request_id)
            WHERE res.request_id = ANY($1::uuid[])`,
          [ids],
        );
        if (rows.length === ids.length) return rows;
        if (Date.now() > end) throw new Error(`only ${rows.length} of ${ids.length} results within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async metricsText() {
      return (await fetch(`${proxy.metricsUrl ?? ''}/metrics`)).text();
    },
    async stop() {
      await producer.disconnect().catch(() => undefined);
      await proxy.close().catch(() => undefined);
      if (reuse) return;
      await kafka.stop();
      await db.drop();
    },
  };
}

export function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
