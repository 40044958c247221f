import {
  Global,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import type { Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import type { InProcessBus } from './in-process-bus';
import {
  INFERENCE_DISPATCHER,
  INFERENCE_REQUEST_SOURCE,
  RESULT_SIGNAL,
  type InferenceDispatcher,
  type InferenceRequestSource,
} from './inference-transport';
import { createKafka, createProducer, type KafkaSettings } from './kafka-client';
import { InferenceClient } from './inference.client';
import { InferenceRequestServer } from './inference-request.server';
import { KafkaDispatcher } from './kafka-dispatcher';
import { KafkaRequestSource, type KafkaRequestSourceOptions } from './kafka-request-source';
import { PgResultSignal } from './pg-result-signal';

/** In memory (the local single-process stack) or Kafka for requests plus Postgres LISTEN/NOTIFY for results. */
export type MessagingTransport =
  | { readonly kind: 'in-process'; readonly bus: InProcessBus }
  | { readonly kind: 'kafka'; readonly kafka: KafkaSettings; readonly databaseUrl: string };

export interface ConsumerGroupSettings {
  readonly groupId: string;
  readonly sessionTimeout: number;
  readonly heartbeatInterval: number;
  readonly maxWaitTimeInMs: number;
}

export interface ConsumerMessagingOptions extends KafkaRequestSourceOptions {
  readonly transport: MessagingTransport;
  readonly group: ConsumerGroupSettings;
}

const DISPATCH_TRANSPORT = Symbol('DISPATCH_TRANSPORT');
const CONSUMER_OPTIONS = Symbol('CONSUMER_OPTIONS');
const KAFKA_PRODUCER = Symbol('KAFKA_PRODUCER');

/** What this module opened and must close: the result listener, then the producer. */
@Injectable()
class MessagingConnections implements BeforeApplicationShutdown {
  readonly closers: Array<() => Promise<void>> = [];

  /** After the feature modules stopped consuming and drained (their hooks run first), before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
  }
}

async function connectProducer(
  transport: MessagingTransport,
  connections: MessagingConnections,
): Promise<Producer | null> {
  if (transport.kind !== 'kafka') return null;
  const producer = createProducer(createKafka(transport.kafka));
  await producer.connect();
  connections.closers.push(() => producer.disconnect());
  return producer;
}

/**
 * The transport between cds-hooks and the inference proxy. Global, so every feature module sees the same
 * dispatcher / source / result signal, and its connections close after theirs stopped using them.
 */
@Global()
@Module({})
export class MessagingModule {
  /** cds-hooks: dispatches requests and listens for result announcements. */
  static forDispatcher(transport: MessagingTransport): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        MessagingConnections,
        { provide: DISPATCH_TRANSPORT, useValue: transport },
        {
          provide: KAFKA_PRODUCER,
          useFactory: connectProducer,
          inject: [DISPATCH_TRANSPORT, MessagingConnections],
        },
        {
          provide: INFERENCE_DISPATCHER,
          useFactory: (t: MessagingTransport, producer: Producer | null) =>
            t.kind === 'kafka' && producer ? new KafkaDispatcher(producer) : inProcess(t),
          inject: [DISPATCH_TRANSPORT, KAFKA_PRODUCER],
        },
        {
          provide: InferenceClient,
          useFactory: (dispatcher: InferenceDispatcher) => new InferenceClient(dispatcher),
          inject: [INFERENCE_DISPATCHER],
        },
        {
          provide: RESULT_SIGNAL,
          useFactory: async (t: MessagingTransport, ds: DataSource, connections: MessagingConnections) => {
            if (t.kind !== 'kafka') return t.bus;
            const signal = new PgResultSignal(ds, t.databaseUrl);
            await signal.listen();
            connections.closers.push(() => signal.close());
            return signal;
          },
          inject: [DISPATCH_TRANSPORT, DataSource, MessagingConnections],
        },
      ],
      exports: [InferenceClient, RESULT_SIGNAL],
    };
  }

  /**
   * inference-proxy: consumes requests and announces results. The options come from a factory so the app can
   * pass its own observers (dead-letter metric) from the modules listed in `imports`.
   */
  static forConsumer(opts: {
    readonly imports?: ModuleMetadata['imports'];
    readonly inject?: Array<InjectionToken | OptionalFactoryDependency>;
    readonly useFactory: (...deps: never[]) => ConsumerMessagingOptions;
  }): DynamicModule {
    return {
      module: MessagingModule,
      imports: opts.imports ?? [],
      providers: [
        MessagingConnections,
        { provide: CONSUMER_OPTIONS, useFactory: opts.useFactory, inject: opts.inject ?? [] },
        {
          provide: KAFKA_PRODUCER,
          useFactory: (o: ConsumerMessagingOptions, c: MessagingConnections) => connectProducer(o.transport, c),
          inject: [CONSUMER_OPTIONS, MessagingConnections],
        },
        {
          provide: INFERENCE_REQUEST_SOURCE,
          useFactory: async (o: ConsumerMessagingOptions, producer: Producer | null) => {
            if (o.transport.kind !== 'kafka' || !producer) return inProcess(o.transport);
            const consumer = createKafka(o.transport.kafka).consumer(o.group);
            await consumer.connect();
            // The consumer itself leaves in KafkaRequestSource.stop (InferenceRequestServer.close).
            return new KafkaRequestSource(consumer, producer, o);
          },
          inject: [CONSUMER_OPTIONS, KAFKA_PRODUCER],
        },
        {
          provide: InferenceRequestServer,
          useFactory: (source: InferenceRequestSource) => new InferenceRequestServer(source),
          inject: [INFERENCE_REQUEST_SOURCE],
        },
        {
          provide: RESULT_SIGNAL,
          useFactory: (o: ConsumerMessagingOptions, ds: DataSource) =>
            o.transport.kind === 'kafka' ? new PgResultSignal(ds, o.transport.databaseUrl) : o.transport.bus,
          inject: [CONSUMER_OPTIONS, DataSource],
        },
      ],
      exports: [InferenceRequestServer, INFERENCE_REQUEST_SOURCE, RESULT_SIGNAL],
    };
  }
}

function inProcess(t: MessagingTransport): InProcessBus {
  if (t.kind !== 'in-process') throw new Error('messaging: a Kafka transport without a producer');
  return t.bus;
}
