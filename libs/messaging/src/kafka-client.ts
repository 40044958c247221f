import { Kafka, logLevel, Partitioners, type KafkaConfig, type LogEntry, type Producer } from 'kafkajs';
import { Logger } from '@nestjs/common';

export interface KafkaSettings {
  readonly brokers: string[];
  readonly clientId: string;
  /** Lower in tests against the mock broker, whose idle fetches wait the full time. */
  readonly maxWaitTimeInMs?: number;
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
