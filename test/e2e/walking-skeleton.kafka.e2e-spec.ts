import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@app/contracts';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '../support/kafka-broker/mock-kafka';
import { testStackEnv } from '../support/stack-env';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { walkingSkeletonCases } from './walking-skeleton.cases';

/** Production wiring: a real Kafka-protocol broker, the machine's Postgres, the model double as the backend. */
describe('walking skeleton, Kafka and Postgres', () => {
  let kafka: MockKafka;
  let db: TestDatabase;
  let double: ModelDouble;
  let stack: LocalStack;

  beforeAll(async () => {
    kafka = await startMockKafka({
      brokers: 1,
      topics: [
        { name: Topics.inferenceRequests, partitions: 3 },
        { name: Topics.inferenceRequestsDeadLetter, partitions: 1 },
      ],
    });
    db = await createTestDatabase('e2e_skeleton');
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
    expect(stack.mode).toEqual({ database: 'external', transport: 'kafka', model: 'backends' });
  });

  afterAll(async () => {
    await stack?.stop();
    await double?.close();
    await kafka?.stop();
    await db?.drop();
  });

  // The cases drive the double through stack.modelDouble; here the double is an external backend.
  walkingSkeletonCases(() => ({ ...stack, modelDouble: double }));

  it('runs each app on its own runtime login, none of them the owner or a superuser', async () => {
    const logins = await queryRows<{ usename: string; superuser: boolean; owner: boolean }>(
      db.url,
      `SELECT DISTINCT a.usename, r.rolsuper AS superuser,
              EXISTS (SELECT 1 FROM pg_tables t WHERE t.tableowner = a.usename) AS owner
       FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
       WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() ORDER BY 1`,
    );
    expect(logins).toEqual([
      { usename: 'meditron_local_cds_hooks', superuser: false, owner: false },
      { usename: 'meditron_local_gateway', superuser: false, owner: false },
      { usename: 'meditron_local_inference_proxy', superuser: false, owner: false },
    ]);
  });

  it('dead-letters a malformed Kafka message with a reason and stores nothing for it', async () => {
    const client = new Kafka({ clientId: 'e2e-dlq', brokers: kafka.bootstrapServers, logLevel: logLevel.NOTHING });
    const producer = client.producer();
    await producer.connect();
    const key = randomUUID();
    await producer.send({
      topic: Topics.inferenceRequests,
      messages: [
        {
          key,
          value: JSON.stringify({ schema: 'inference-request.v1', requestId: key, prompt: 'x' }),
          headers: {
            'x-correlation-id': key,
            'x-deadline-ms': String(Date.now() + 60_000),
            'x-schema': 'inference-request.v1',
          },
        },
      ],
    });
    await producer.disconnect();

    const consumer = client.consumer({ groupId: `e2e-dlq-${key}`, ...fastKafkaConsumerConfig });
    await consumer.connect();
    await consumer.subscribe({ topic: Topics.inferenceRequestsDeadLetter, fromBeginning: true });
    const record = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no dead-letter record within 20 s')), 20_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() !== key) return;
          clearTimeout(timer);
          resolve(JSON.parse(message.value!.toString()) as Record<string, unknown>);
        },
      });
    });
    await consumer.disconnect();
    expect(record).toMatchObject({ schema: 'dead-letter.v1', sourceTopic: Topics.inferenceRequests });
    expect(record.reason).toEqual(expect.stringContaining('hookInstance: invalid_type'));
    expect(Buffer.from(record.valueBase64 as string, 'base64').toString()).toContain(key);
    const rows = await queryRows(db.url, `SELECT 1 FROM inference_results WHERE request_id::text = $1`, [key]);
    expect(rows).toEqual([]);
  });
});
