import {
  Kafka,
  logLevel,
  Partitioners,
  type KafkaConfig,
  type LogEntry,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import { Logger } from '@nestjs/common';
import type { KafkaSecurity } from '@app/config';

export interface KafkaSettings {
  readonly brokers: string[];
  readonly clientId: string;
  /** Lower in tests against the mock broker, whose idle fetches wait the full time. */
  readonly maxWaitTimeInMs?: number;
  readonly security?: KafkaSecurity;
}

const levels: Record<number, 'error' | 'warn' | 'log' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'log',
  [logLevel.DEBUG]: 'debug',
};

/** KafkaJS logs go through Nest's logger (and so through pino); message payloads are never logged. */
export function createKafka(settings: KafkaSettings): Kafka {
  const logger = new Logger('kafkajs');
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: logLevel.WARN,
    ...(settings.security
      ? { ssl: settings.security.ssl, ...(settings.security.sasl ? { sasl: saslOptions(settings.security.sasl) } : {}) }
      : {}),
    retry: { initialRetryTime: 200, retries: 10 },
    logCreator: () => (entry: LogEntry) => {
      const method = levels[entry.level] ?? 'log';
      logger[method](`${entry.namespace}: ${entry.log.message}`);
    },
  };
  return new Kafka(config);
}

/**
 * Producers for our topics. Not kafkajs's idempotent producer: a duplicate publish is harmless (the proxy
 * runs each request id once), and it needs a controller lookup some Kafka-protocol brokers do not answer.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
}

function saslOptions(s: NonNullable<KafkaSecurity['sasl']>): SASLOptions {
  const { username, password } = s;
  switch (s.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}
