import { CompressionTypes, type Producer } from 'kafkajs';
import { Topics, toWireHeaders, type InferenceRequestV1, type MessageHeaders } from '@app/contracts';
import { contextFromTraceparent } from '@app/observability';
import { context } from '@opentelemetry/api';
import type { InferenceDispatcher } from './inference-transport';

/** Publishes inference requests keyed by request id (so a retry lands on the same partition). */
export class KafkaDispatcher implements InferenceDispatcher {
  constructor(private readonly producer: Producer) {}

  async dispatch(request: InferenceRequestV1, headers: MessageHeaders): Promise<void> {
    // Sent in the trace the headers name, whatever context reached here: the kafkajs instrumentation's producer
    // span is then the dispatch's child, and the traceparent it writes into the headers stays in the hook's trace.
    await context.with(contextFromTraceparent(headers.traceparent), () => this.send(request, headers));
  }

  private async send(request: InferenceRequestV1, headers: MessageHeaders): Promise<void> {
    await this.producer.send({
      topic: Topics.inferenceRequests,
      acks: -1,
      compression: CompressionTypes.None,
      messages: [{ key: request.requestId, value: JSON.stringify(request), headers: toWireHeaders(headers) }],
    });
  }
}
