/** Public types of the model double (a stand-in for a vLLM / TGI model server in tests and the dev stack). */

/** Which real server the double imitates: error shapes, metric names and accepted aliases differ. */
export type DoubleFlavour = 'vllm' | 'tgi';

export interface Latency {
  /** Delay before the first generated token (prefill + queueing). */
  ttftMs: number;
  /** Delay per generated token after the first; the last one stands for the end-of-sequence step. */
  perTokenMs: number;
}

export interface ModelDoubleOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 'vllm'. */
  flavour?: DoubleFlavour;
  /** The served model id; defaults to 'meditron-70b'. */
  model?: string;
  /** Defaults to { ttftMs: 0, perTokenMs: 0 }. */
  latency?: Latency;
  /**
   * 'instruct' (default): answers the JSON findings when asked for structured output, else a one-line text.
   * 'base': a foundation model. Without a grammar it writes the answer, then runs on, inventing further
   * `### User:` / `### Assistant:` turns until a stop string or max_tokens ends it; with one, only the JSON.
   */
  mode?: DoubleMode;
  /** Limits the real servers are started with (`--max-model-len`; `--max-input-tokens`, `--max-total-tokens`). */
  limits?: Partial<ContextLimits>;
  /** TGI's version reported at /info (the structured-output shapes it takes depend on it); default 3.3.4. */
  tgiVersion?: string;
  /** vLLM `--max-num-queued-reqs` (recent vLLM only): 503 beyond it. Unset = queue without bound, as 0.11 does. */
  maxNumQueuedReqs?: number;
}

export type DoubleMode = 'instruct' | 'base';

export interface ContextLimits {
  /** vLLM: prompt + max_tokens must fit. Default 4096. */
  maxModelLen: number;
  /** TGI: prompt must be at most this. Default 3584. */
  maxInputTokens: number;
  /** TGI: prompt + max_new_tokens must fit. Default 4096. */
  maxTotalTokens: number;
}

/**
 * 'overloaded': TGI 429; vLLM queues the request (it waits `delayMs`, counted in num_requests_waiting) and
 * answers 503 only when started with `maxNumQueuedReqs`. 'generation_error': TGI 424, vLLM 500.
 */
export type FaultKind = 'overloaded' | 'unavailable' | 'disconnect' | 'malformed' | 'slow' | 'generation_error';

/**
 * What the next generation requests do. Plans queue up in the order injected; the first one applies
 * until its `count` is used up (or, without a count, until cleared).
 */
export interface FaultPlan {
  kind: FaultKind;
  /** How many generation requests it affects; omitted = until cleared. */
  count?: number;
  /** Extra delay before answering; required for 'slow'; the queueing time of a vLLM 'overloaded' (default 1000). */
  delayMs?: number;
}

/** The structured-output request shape that arrived, as found in `response_format`. */
export type ResponseFormatShape =
  | 'none' /* no response_format */
  | 'text' /* { type: 'text' } */
  | 'json_object' /* { type: 'json_object' } (TGI also accepts a schema in `value`) */
  | 'openai_json_schema' /* { type: 'json_schema', json_schema: { name, schema } } — vLLM / OpenAI */
  | 'tgi_json_schema' /* { type: 'json_schema', value: { name?, schema } } — TGI (a bare schema as value too) */
  | 'tgi_json' /* { type: 'json', value: schema } — TGI grammar */
  | 'other'; /* present but none of the above (refused or ignored, by flavour and endpoint) */

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Parsed JSON body; the raw text when it is not JSON; null when empty. */
  body: unknown;
  /** Header names lowercased; repeated headers joined with ', '. */
  headers: Record<string, string>;
  responseFormat: ResponseFormatShape;
  /** A grammar was in force for the answer (what the flavour and endpoint really enforce). */
  structured?: boolean;
  /** A fault plan was applied to it (counted in DoubleStats.faulted); absent otherwise. */
  faulted?: true;
  /** Epoch milliseconds. */
  receivedAt: number;
}

/** Counts over the recorded (model API) requests: everything except /health, /metrics and /_double/*. */
export interface DoubleStats {
  received: number;
  /** Completed with a 2xx response (includes 'slow' and 'malformed' faulted ones). */
  answered: number;
  /** A fault plan was applied to it. */
  faulted: number;
  inFlight: number;
}

export interface ModelDouble {
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  /** url + '/v1': the OpenAI client's baseURL. */
  baseUrl: string;
  flavour: DoubleFlavour;
  model: string;
  setLatency(l: Latency): void;
  injectFault(f: FaultPlan): void;
  clearFaults(): void;
  /** The next completion/chat answers with exactly this text (FIFO); when empty, the default answer. */
  enqueueResponse(text: string): void;
  requests(): RecordedRequest[];
  stats(): DoubleStats;
  close(): Promise<void>;
}
