import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { InferenceRequestV1, MessageHeaders } from '@app/contracts';
import { INFERENCE_REQUEST_PATTERN } from './inference-request.server';
import type { InferenceDispatcher } from './inference-transport';

/** What cds-hooks emits under INFERENCE_REQUEST_PATTERN. */
export interface OutboundInference {
  readonly request: InferenceRequestV1;
  readonly headers: MessageHeaders;
}

/**
 * Nest's client side of the inference transport: `emit` publishes a request (Kafka producer, or the in-process
 * bus). Events only: the result comes back through Postgres and the result signal, never as a reply, so `send`
 * (request-reply, whose reply-partition assignment breaks around rebalances) is refused.
 */
export class InferenceClient extends ClientProxy {
  constructor(private readonly dispatcher: InferenceDispatcher) {
    super();
  }

  /** The producer is connected by MessagingModule before the app starts. */
  async connect(): Promise<void> {}

  /** The producer is closed by MessagingModule after the app stopped sending. */
  close(): void {}

  unwrap<T>(): T {
    return this.dispatcher as T;
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new Error('inference requests are events: use emit, not send'), isDisposed: true });
    return () => undefined;
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket<OutboundInference>): Promise<T> {
    if (packet.pattern !== INFERENCE_REQUEST_PATTERN) throw new Error(`unknown pattern ${String(packet.pattern)}`);
    await this.dispatcher.dispatch(packet.data.request, packet.data.headers);
    return undefined as T;
  }
}
