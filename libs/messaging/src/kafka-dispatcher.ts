import { CompressionTypes, type Producer } from 'kafkajs';
import { Topics, toWireHeaders, type InferenceRequestV1, type MessageHeaders } from '@app/contracts';
import type { InferenceDispatcher } from './inference-transport';

/** Publishes inference requests keyed by request id (so a retry lands on the same partition). */
export class KafkaDispatcher implements InferenceDispatcher {
  constructor(private readonly producer: Producer) {}

  async dispatch(request: InferenceRequestV1, headers: MessageHeaders): Promise<void> {
    await this.producer.send({
      topic: Topics.inferenceRequests,
      acks: -1,
      compression: CompressionTypes.None,
      messages: [{ key: request.requestId, value: JSON.stringify(request), headers: toWireHeaders(headers) }],
    });
  }
}
