import type { BackendKind } from '@app/config';
import type { BackendErrorCode } from './backend-error';

/**
 * Input-length refusals, by their upstream messages: TGI router/src/validation.rs (v3.3.4) `InputLength`
 * ("`inputs` must have less than N tokens") and `MaxTotalTokens` ("`inputs` tokens + `max_new_tokens` must be
 * <= N"); vLLM serving_engine.py ("This model's maximum context length is N tokens").
 */
const INPUT_TOO_LONG = [
  /`inputs` must have less than \d+ tokens/,
  /`inputs` tokens \+ `max_new_tokens` must be <=/,
  /maximum context length/i,
];

/**
 * One error code per HTTP failure, the same for both paths (Kafka and facade). TGI: 424 generation error and
 * 500 incomplete generation are the backend's fault (retry elsewhere, cool down); 429 is its queue limit;
 * 422 is validation. vLLM: 503 only when a queue limit is configured (else it queues); 400 is validation.
 */
export function classifyHttpError(kind: BackendKind, status: number, body: string): BackendErrorCode {
  if (status === 429) return 'overloaded';
  if (status === 503) return kind === 'vllm' ? 'overloaded' : 'unavailable';
  if (status === 424) return 'generation_failed';
  if (status >= 500) return 'unavailable';
  if ((status === 400 || status === 422) && INPUT_TOO_LONG.some((re) => re.test(body))) return 'input_too_long';
  return 'bad_request';
}
