import { Logger } from '@nestjs/common';
import type { Consumer, EachMessagePayload, IHeaders, Producer } from 'kafkajs';
import {
  fromWireHeaders,
  INFERENCE_REQUEST_SCHEMA,
  parseInferenceRequest,
  Topics,
  type DeadLetterV1,
} from '@app/contracts';
import type { InboundHandler, InferenceRequestSource } from './inference-transport';

function headerRecord(headers: IHeaders | undefined): Record<string, string | Buffer | undefined> {
  const out: Record<string, string | Buffer | undefined> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k] = Array.isArray(v) ? v[0] : v;
  return out;
}

/**
 * Consumes inference requests. Malformed messages go to the dead-letter topic with a reason. While the
 * handler runs (a 70B call can outlast the session timeout) the consumer keeps heartbeating; the offset
 * is resolved only after the handler returns, i.e. after the result is stored.
 */
export class KafkaRequestSource implements InferenceRequestSource {
  private readonly logger = new Logger(KafkaRequestSource.name);

  constructor(
    private readonly consumer: Consumer,
    private readonly producer: Producer,
    private readonly concurrency: number,
    private readonly heartbeatEveryMs: number,
  ) {}

  async start(handler: InboundHandler): Promise<void> {
    await this.consumer.subscribe({ topics: [Topics.inferenceRequests], fromBeginning: true });
    await this.consumer.run({
      partitionsConsumedConcurrently: this.concurrency,
      eachMessage: (payload) => this.handle(payload, handler),
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async handle(payload: EachMessagePayload, handler: InboundHandler): Promise<void> {
    const { message, partition, topic } = payload;
    const headers = fromWireHeaders(headerRecord(message.headers));
    const parsed = parseInferenceRequest(message.value);
    if (!headers.ok || !parsed.ok || headers.headers.schema !== INFERENCE_REQUEST_SCHEMA) {
      const reason = !headers.ok
        ? headers.reason
        : !parsed.ok
          ? parsed.reason
          : `unsupported schema ${headers.headers.schema}`;
      await this.deadLetter(payload, reason);
      return;
    }
    const beat = setInterval(() => {
      payload.heartbeat().catch(() => undefined);
    }, this.heartbeatEveryMs);
    try {
      await handler({ request: parsed.value, headers: headers.headers });
    } finally {
      clearInterval(beat);
    }
    this.logger.debug(`handled ${topic}[${partition}]@${message.offset}`);
  }

  private async deadLetter(payload: EachMessagePayload, reason: string): Promise<void> {
    const record: DeadLetterV1 = {
      schema: 'dead-letter.v1',
      reason,
      sourceTopic: payload.topic,
      partition: payload.partition,
      offset: payload.message.offset,
      receivedAt: new Date().toISOString(),
      valueBase64: payload.message.value ? payload.message.value.toString('base64') : null,
    };
    await this.producer.send({
      topic: Topics.inferenceRequestsDeadLetter,
      acks: -1,
      messages: [{ key: payload.message.key, value: JSON.stringify(record) }],
    });
    this.logger.warn(`dead-lettered ${payload.topic}[${payload.partition}]@${payload.message.offset}: ${reason}`);
  }
}
