import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { Topics } from '@app/contracts';
import { fastKafkaConsumerConfig } from '../../support/kafka-broker/mock-kafka';

export interface CopiedMessage {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: IHeaders;
}

/** Reads the request messages with the given keys (request ids) from the topic, as cds-hooks published them. */
export async function readRequestMessages(brokers: string[], keys: ReadonlyArray<string>): Promise<CopiedMessage[]> {
  const kafka = new Kafka({ clientId: 'reliability-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reliability-reader-${randomUUID()}`, ...fastKafkaConsumerConfig });
  const found = new Map<string, CopiedMessage>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: Topics.inferenceRequests, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`found ${found.size} of ${keys.length} messages in 20 s`)),
        20_000,
      );
      void consumer.run({
        eachMessage: async ({ message }) => {
          const key = message.key?.toString();
          if (!key || !keys.includes(key) || !message.value) return;
          found.set(key, { key, value: message.value, headers: message.headers ?? {} });
          if (found.size === keys.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return keys.map((k) => found.get(k)!);
}

/** Publishes exact copies (key, value, headers) of messages: the same Kafka message delivered twice. */
export async function publishCopies(brokers: string[], messages: ReadonlyArray<CopiedMessage>): Promise<void> {
  const producer = new Kafka({ clientId: 'reliability-dup', brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    await producer.send({
      topic: Topics.inferenceRequests,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
    });
  } finally {
    await producer.disconnect();
  }
}
