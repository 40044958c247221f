import { Kafka, logLevel, type Consumer, type EachMessagePayload } from 'kafkajs';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '@app/testing/kafka-broker/mock-kafka';

const T0 = Date.now();
const log = (msg: string): void => {
  if (process.env.MOCK_KAFKA_TIMING) process.stderr.write(`[${Date.now() - T0} ms] ${msg}\n`);
};

function kafkaFor(mock: MockKafka, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: mock.bootstrapServers, logLevel: logLevel.NOTHING });
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('startMockKafka', () => {
  let mock: MockKafka | undefined;
  const consumers: Consumer[] = [];

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch(() => undefined)));
    await mock?.stop();
    mock = undefined;
  });

  it('delivers every produced message to a consumer group', async () => {
    mock = await startMockKafka({ topics: [{ name: 'orders', partitions: 3 }] });
    log(`started ${mock.bootstrapServers.join(',')}`);
    const kafka = kafkaFor(mock, 'single');
    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 30 }, (_, i) => `m${i}`);
    await producer.send({ topic: 'orders', messages: sent.map((value, i) => ({ key: `k${i}`, value })) });
    await producer.disconnect();
    log('produced');

    const consumer = kafka.consumer({ groupId: 'g-single', ...fastKafkaConsumerConfig });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const received: string[] = [];
    const partitions = new Set<number>();
    await consumer.run({
      eachMessage: async ({ partition, message }: EachMessagePayload) => {
        partitions.add(partition);
        received.push(message.value?.toString() ?? '');
      },
    });
    await waitFor('all messages', () => received.length >= sent.length);
    log('consumed');
    expect([...received].sort()).toEqual([...sent].sort());
    expect(partitions).toEqual(new Set([0, 1, 2]));
  });
});
