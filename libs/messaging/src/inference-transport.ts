import type { InferenceRequestV1, MessageHeaders } from '@app/contracts';

/** A validated inference request as the proxy receives it. */
export interface InboundInference {
  readonly request: InferenceRequestV1;
  readonly headers: MessageHeaders;
}

/** Resolves once the request has been handled (result stored); throwing makes the transport redeliver. */
export type InboundHandler = (msg: InboundInference) => Promise<void>;

/** cds-hooks side: hands a request to whichever proxy instance takes it. */
export interface InferenceDispatcher {
  dispatch(request: InferenceRequestV1, headers: MessageHeaders): Promise<void>;
}

/** inference-proxy side: delivers requests to the handler, at least once. */
export interface InferenceRequestSource {
  /** `messaging.system` of its spans (OpenTelemetry messaging conventions); the in-process bus has none. */
  readonly messagingSystem?: string;
  start(handler: InboundHandler): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Reply path. The proxy stores the result in Postgres, then announces the request id; any cds-hooks
 * replica waiting for it reads the row. No reply is addressed to a consumer, so rebalances and scaling
 * cannot misroute one, and a missed announcement is caught by the waiter's poll.
 */
export interface ResultSignal {
  /**
   * The Postgres channel this signal listens on, when a result's store statement can notify it itself (at commit,
   * no second round trip): the proxy then stores and announces in one statement and does not call `announce`.
   */
  readonly notifyChannel?: string;
  announce(requestId: string): Promise<void>;
  subscribe(listener: (requestId: string) => void): () => void;
}

export const INFERENCE_DISPATCHER = Symbol('INFERENCE_DISPATCHER');
export const INFERENCE_REQUEST_SOURCE = Symbol('INFERENCE_REQUEST_SOURCE');
export const RESULT_SIGNAL = Symbol('RESULT_SIGNAL');
