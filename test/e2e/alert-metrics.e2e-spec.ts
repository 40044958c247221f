import { Topics } from '@app/contracts';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { ensureHelm } from '../../deploy/helm/meditron-cds/tests/helm';
import { monitoringMetricNames } from '../../deploy/helm/meditron-cds/tests/monitoring';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '../support/kafka-broker/mock-kafka';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { scrape } from '../support/prometheus-scrape';
import { testStackEnv } from '../support/stack-env';
import { patientViewRequest, postHook } from './walking-skeleton.cases';

/** `name` as exposed: itself, or the histogram it is a series of (`_bucket`, `_count`, `_sum`). */
function exposedAs(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|count|sum)$/, '');
  return base !== name && types.get(base) === 'histogram' ? base : undefined;
}

/** `# TYPE name type` lines of a scrape. */
function typesOf(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/**
 * The chart's PrometheusRule and Grafana dashboard (rendered with both switched on) read only metrics the apps
 * really serve: the three apps run (Kafka, Postgres, the model double as the engine), take a hook call, and their
 * metrics listeners are scraped. A renamed or removed metric fails here, not silently in a customer's Prometheus.
 */
describe('metrics read by the chart’s alerts and dashboard, against the running apps', () => {
  let kafka: MockKafka;
  let db: TestDatabase;
  let double: ModelDouble;
  let stack: LocalStack;
  let names: string[];

  beforeAll(async () => {
    names = await monitoringMetricNames(ensureHelm());
    kafka = await startMockKafka({
      brokers: 1,
      topics: [
        { name: Topics.inferenceRequests, partitions: 2 },
        { name: Topics.inferenceRequestsDeadLetter, partitions: 1 },
      ],
    });
    db = await createTestDatabase('e2e_alert_metrics');
    double = await startModelDouble({ port: 0, flavour: 'vllm' });
    stack = await startLocalStack({
      env: testStackEnv({
        DATABASE_URL: db.url,
        KAFKA_BROKERS: kafka.bootstrapServers.join(','),
        KAFKA_MAX_WAIT_MS: String(fastKafkaConsumerConfig.maxWaitTimeInMs),
        KAFKA_SESSION_TIMEOUT_MS: String(fastKafkaConsumerConfig.sessionTimeout),
        KAFKA_HEARTBEAT_MS: String(fastKafkaConsumerConfig.heartbeatInterval),
        INFERENCE_BACKENDS: `vllm=${double.baseUrl}`,
        HOOK_DEADLINE_MS: '15000',
        UPSTREAM_TIMEOUT_MS: '20000',
      }),
    });
    const res = await postHook(stack, patientViewRequest().body);
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    await stack?.stop();
    await double?.close();
    await kafka?.stop();
    await db?.drop();
  });

  async function scrapes(): Promise<string[]> {
    const { gateway, cdsHooks, inferenceProxy } = stack.metricsUrls;
    return Promise.all([gateway, cdsHooks, inferenceProxy].map((url) => scrape(url)));
  }

  it('finds every metric an alert or a panel uses in some app’s /metrics', async () => {
    expect(names.length).toBeGreaterThan(20);
    const types = new Map((await scrapes()).flatMap((text) => [...typesOf(text)]));
    const missing = names.filter((n) => exposedAs(n, types) === undefined);
    expect(missing).toEqual([]);
  });

  it('serves the series the new alerts rely on with values after a hook call over Kafka', async () => {
    const all = (await scrapes()).join('\n');
    // The consumer fetched from both partitions' leader: the lag of at least one partition is known.
    expect(all).toMatch(/^meditron_proxy_consumer_lag\{[^}]*partition="\d+"[^}]*\} \d+$/m);
    expect(all).toMatch(/^meditron_proxy_queue_capacity(\{[^}]*\})? [1-9]\d*$/m);
    expect(all).toMatch(/^meditron_audit_queue_capacity(\{[^}]*\})? [1-9]\d*$/m);
    expect(all).toMatch(/^meditron_audit_chain_broken(\{[^}]*\})? 0$/m);
    expect(all).toMatch(/^meditron_audit_chain_verifications_total\{[^}]*result="error"[^}]*\} 0$/m);
  });
});
