import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '@app/testing/kafka-broker/mock-kafka';

const T0 = Date.now();
const log = (msg: string): void => {
  if (process.env.MOCK_KAFKA_TIMING) process.stderr.write(`[${Date.now() - T0} ms] ${msg}\n`);
};

function kafkaFor(mock: MockKafka, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: mock.bootstrapServers,
    logLevel: process.env.MOCK_KAFKA_LOG ? logLevel.DEBUG : logLevel.NOTHING,
  });
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const values = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

/** A running group member that records what it consumed and its latest assignment. */
interface Member {
  consumer: Consumer;
  received: Array<{ partition: number; value: string }>;
  assignment: () => number[];
}

async function startMember(kafka: Kafka, groupId: string, topic: string): Promise<Member> {
  const consumer = kafka.consumer({ groupId, ...fastKafkaConsumerConfig });
  const received: Member['received'] = [];
  let assignment: number[] = [];
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    assignment = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    log(`${groupId} member joined in ${payload.duration} ms: ${topic}=${assignment.join(',')}`);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      received.push({ partition, value: message.value?.toString() ?? '' });
    },
  });
  return { consumer, received, assignment: () => assignment };
}

describe('startMockKafka (librdkafka mock cluster)', () => {
  let mock: MockKafka | undefined;
  const clients: Array<{ disconnect(): Promise<void> }> = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect().catch(() => undefined)));
    await mock?.stop();
    mock = undefined;
  });

  it('delivers every message produced to a 3-partition topic to a consumer group', async () => {
    mock = await startMockKafka({ topics: [{ name: 'orders', partitions: 3 }] });
    expect(mock.bootstrapServers).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
    const kafka = kafkaFor(mock, 'single');

    const producer = kafka.producer();
    clients.push(producer);
    await producer.connect();
    const sent = values('order', 30);
    await producer.send({ topic: 'orders', messages: sent.map((value, i) => ({ key: `k${i}`, value })) });

    const member = await startMember(kafka, 'orders-group', 'orders');
    clients.push(member.consumer);
    await waitFor('every message', () => member.received.length >= sent.length);
    log('single consumer got everything');

    expect(sorted(member.received.map((m) => m.value))).toEqual(sorted(sent));
    expect(new Set(member.received.map((m) => m.partition))).toEqual(new Set([0, 1, 2]));
    expect(member.assignment()).toEqual([0, 1, 2]);
  });

  it('splits partitions between two group members and rebalances to the survivor without losing messages', async () => {
    mock = await startMockKafka({ topics: [{ name: 'events', partitions: 3 }] });
    const kafka = kafkaFor(mock, 'pair');
    const producer = kafka.producer();
    clients.push(producer);
    await producer.connect();

    // Both join inside the mock's initial 3 s join window, so there is a single rebalance.
    const [a, b] = await Promise.all([
      startMember(kafka, 'events-group', 'events'),
      startMember(kafka, 'events-group', 'events'),
    ]);
    clients.push(a.consumer, b.consumer);
    await waitFor('both members assigned', () => a.assignment().length > 0 && b.assignment().length > 0);
    expect(sorted([...a.assignment(), ...b.assignment()].map(String))).toEqual(['0', '1', '2']);
    log(`split: a=${a.assignment().join(',')} b=${b.assignment().join(',')}`);

    const before = values('before', 30);
    await producer.send({ topic: 'events', messages: before.map((value) => ({ value })) });
    await waitFor('first batch', () => a.received.length + b.received.length >= before.length);
    // Each member consumed only from its own partitions.
    expect(a.received.every((m) => a.assignment().includes(m.partition))).toBe(true);
    expect(b.received.every((m) => b.assignment().includes(m.partition))).toBe(true);
    expect(a.received.length).toBeGreaterThan(0);
    expect(b.received.length).toBeGreaterThan(0);

    // B leaves; messages produced during the rebalance must reach A from the committed offsets.
    const leftAt = Date.now();
    await b.consumer.disconnect();
    const during = values('during', 30);
    await producer.send({ topic: 'events', messages: during.map((value) => ({ value })) });
    await waitFor('survivor owns every partition', () => a.assignment().length === 3);
    log(`rebalance after leave took ${Date.now() - leftAt} ms`);
    const after = values('after', 30);
    await producer.send({ topic: 'events', messages: after.map((value) => ({ value })) });

    const all = [...before, ...during, ...after];
    const seen = (): Set<string> => new Set([...a.received, ...b.received].map((m) => m.value));
    await waitFor('every message after the rebalance', () => all.every((v) => seen().has(v)));
    log('survivor got everything');
    expect(sorted(seen())).toEqual(sorted(all));
    expect(new Set(a.received.filter((m) => m.value.startsWith('after')).map((m) => m.partition))).toEqual(
      new Set([0, 1, 2]),
    );
  });

  it('keeps producing after a partition leader goes down and comes back', async () => {
    mock = await startMockKafka({ brokers: 3, topics: [{ name: 'payments', partitions: 3 }] });
    expect(mock.bootstrapServers).toHaveLength(3);
    const kafka = kafkaFor(mock, 'failover');
    const admin = kafka.admin();
    const producer = kafka.producer({ retry: { initialRetryTime: 50, maxRetryTime: 500, retries: 30 } });
    clients.push(admin, producer);
    await Promise.all([admin.connect(), producer.connect()]);

    const { topics } = await admin.fetchTopicMetadata({ topics: ['payments'] });
    const partitions = topics[0]?.partitions ?? [];
    expect(partitions).toHaveLength(3);
    expect(partitions.every((p) => p.replicas.length === 3)).toBe(true);
    const victim = partitions[0]!;

    await producer.send({
      topic: 'payments',
      messages: values('up', 3).map((value, partition) => ({ value, partition })),
    });

    await mock.brokerDown(victim.leader);
    const downAt = Date.now();
    let delivered = false;
    const pending = producer
      .send({ topic: 'payments', messages: [{ value: 'while-down', partition: victim.partitionId }] })
      .then((r) => {
        delivered = true;
        return r;
      });
    // The partition's leader is gone (the mock does not move leadership): the send retries.
    await new Promise((r) => setTimeout(r, 500));
    expect(delivered).toBe(false);

    await mock.brokerUp(victim.leader);
    await pending;
    log(`send to the downed leader completed ${Date.now() - downAt} ms after brokerDown (up after 500 ms)`);

    await producer.send({
      topic: 'payments',
      messages: values('back', 3).map((value, partition) => ({ value, partition })),
    });
    const offsets = await admin.fetchTopicOffsets('payments');
    const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    expect(total).toBe(3 + 1 + 3);
  });

  it('creates topics on demand and rejects bad commands', async () => {
    mock = await startMockKafka({ brokers: 2 });
    await mock.createTopic('later', 5);
    await expect(mock.createTopic('later', 5)).rejects.toThrow(/already exists/i);
    await expect(mock.brokerDown(3)).rejects.toThrow(/broker id/);

    const admin = kafkaFor(mock, 'topics').admin();
    clients.push(admin);
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata({ topics: ['later'] });
    expect(topics[0]?.partitions).toHaveLength(5);
    expect(topics[0]?.partitions.every((p) => p.replicas.length === 2)).toBe(true);

    await mock.stop();
    await mock.stop(); // idempotent
    await expect(mock.brokerUp(1)).rejects.toThrow(/not running/);
  });
});
