import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { BaseRpcContext, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { Topics, type MessageHeaders } from '@app/contracts';
import { contextFromTraceparent, inSpan, SpanKind } from '@app/observability';
import type { InboundInference, InferenceRequestSource } from './inference-transport';

/** The event pattern inference requests are dispatched under, on both sides. */
export const INFERENCE_REQUEST_PATTERN = 'inference.request';

/** The transport context of one request: its message headers (deadline, correlation, trace). */
export class InferenceContext extends BaseRpcContext<[MessageHeaders]> {
  get headers(): MessageHeaders {
    return this.args[0];
  }
}

/**
 * Nest's custom transport for the proxy's inference requests. The delivery semantics stay in the source:
 * with Kafka, KafkaRequestSource's eachBatch consumer (contiguous manual commits, pause/resume at the pending
 * bound, dead-lettering, heartbeats); in the local stack, the in-process bus. Each validated request goes to
 * the `@EventPattern(INFERENCE_REQUEST_PATTERN)` handler, and the source commits only once that handler
 * resolved; a handler that fails makes the source redeliver. Not ServerKafka: its eachMessage loop holds a
 * partition for the length of one 70B call and commits as it goes.
 */
export class InferenceRequestServer extends Server implements CustomTransportStrategy, OnModuleDestroy {
  protected override readonly logger = new Logger(InferenceRequestServer.name);
  private stopping: Promise<void> | undefined;
  /**
   * The handler, looked up once: Nest registers it before listen() and never removes it, and each lookup parses
   * the pattern with JSON.parse, which throws (and is caught) for a plain string pattern like ours: ~1 % of the
   * single-process stack's CPU at 50 hooks/s when it ran per message.
   */
  private handler: MessageHandler | undefined;

  constructor(private readonly source: InferenceRequestSource) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    this.source
      .start((msg) => this.deliver(msg))
      .then(
        () => callback(),
        (e: unknown) => callback(e),
      );
  }

  /** Stops consuming first on shutdown (onModuleDestroy), before the writers drain; idempotent. */
  close(): Promise<void> {
    this.stopping ??= this.source.stop();
    return this.stopping;
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  on(): never {
    throw new Error('InferenceRequestServer has no events to subscribe to');
  }

  unwrap<T>(): T {
    return this.source as T;
  }

  /** Resolves once the handler is done (its result stored); rejects, and so redelivers, if it failed. */
  private deliver({ request, headers }: InboundInference): Promise<void> {
    // A consumer span in the hook's trace (the message's traceparent), whichever transport carried it.
    const attributes = {
      'messaging.system': this.source.messagingSystem ?? 'in_process',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': Topics.inferenceRequests,
      'messaging.message.id': headers.correlationId,
    };
    return inSpan(
      'meditron-inference-proxy',
      `process ${Topics.inferenceRequests}`,
      { kind: SpanKind.CONSUMER, attributes, parent: contextFromTraceparent(headers.traceparent) },
      () => this.handle({ request, headers }),
    );
  }

  private async handle({ request, headers }: InboundInference): Promise<void> {
    const handler = (this.handler ??= this.getHandlerByPattern(INFERENCE_REQUEST_PATTERN) ?? undefined);
    if (!handler) throw new Error(`no handler for ${INFERENCE_REQUEST_PATTERN}`);
    const result = await handler({ request, headers }, new InferenceContext([headers]));
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }
}
