import type { InferenceRequestV1, MessageHeaders } from '@app/contracts';
import type { InferenceResultEntity } from '@app/database';

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
 * Reply path. The proxy stores the result in Postgres, then announces the request id, with the row exactly as that
 * store stored it when it has it; any cds-hooks replica waiting for it takes the carried row, or reads the row when
 * only the id came. No reply is addressed to a consumer, so rebalances and scaling cannot misroute one, and a missed
 * announcement is caught by the waiter's poll.
 */
export interface ResultSignal {
  /**
   * The Postgres channel this signal listens on, when a result's store statement can notify it itself (at commit,
   * no second round trip): the proxy then stores and announces in one statement and does not call `announce`.
   */
  readonly notifyChannel?: string;
  /**
   * `stored`: the row as the caller's own store statement returned it (never a candidate that may have lost to an
   * earlier write); without it, listeners read the row. A signal may send the id alone even when given the row.
   */
  announce(requestId: string, stored?: InferenceResultEntity): Promise<void>;
  subscribe(listener: ResultListener): () => void;
}

/** Hears a stored result's request id, and the stored row itself when it travelled with the id. */
export type ResultListener = (requestId: string, stored?: InferenceResultEntity) => void;

export const INFERENCE_DISPATCHER = Symbol('INFERENCE_DISPATCHER');
export const INFERENCE_REQUEST_SOURCE = Symbol('INFERENCE_REQUEST_SOURCE');
export const RESULT_SIGNAL = Symbol('RESULT_SIGNAL');
