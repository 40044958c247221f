import type { InferenceResultEntity } from '@app/database';
import type { CdsServiceDefinition } from '../discovery/service-catalog';
import type { HookDelivery } from '../load-shedding/hook-delivery';
import type { HookRequest } from './hook-request.schema';

/** Request-scoped facts of a hook call, from the transport. */
export interface HookCallMeta {
  readonly requestId: string;
  readonly traceparent: string | undefined;
  readonly clientId: string | undefined;
  /** Who answers the EHR (absent where LoadShedding does not serve the call: the handler always does). */
  readonly delivery?: HookDelivery;
}

/** One hook call on its way to cards: what was asked, for which service, and by when it must be answered. */
export interface HookCall {
  readonly invocationId: string;
  readonly service: CdsServiceDefinition;
  readonly hook: HookRequest;
  readonly meta: HookCallMeta;
  readonly receivedAt: Date;
  /** Epoch ms by which the result must be in for the answer to make the service's budget. */
  readonly answerBy: number;
}

/** An inference under way for a call: its request id, whether it was reused, and its result within the budget. */
export interface StartedInference {
  readonly requestId: string;
  /** A fresh stored result for the same prompt, a request for it still running, or none (a new request). */
  readonly reused: 'result' | 'pending' | 'none';
  result(): Promise<InferenceResultEntity | undefined>;
}
