import { defaultJsonAnswer, defaultTextAnswer, truncateAnswer } from './answers';
import type { GenerationRequest } from './generation-request';
import type { FinishReason } from './openai-shapes';
import { isStructured } from './request-schemas';
import { tokenize } from './tokens';

export interface AnswerPlan {
  tokens: string[];
  finish: FinishReason;
}

/**
 * What to generate: an enqueued text exactly as given; else the default answer (JSON when structured
 * output was asked for), plain text capped at max_tokens. 'malformed' cuts the default answer in
 * half (finish 'length', as a model stopped early) and leaves the queue alone.
 */
export function planAnswer(
  request: GenerationRequest,
  malformed: boolean,
  takeQueued: () => string | undefined,
): AnswerPlan {
  const structured = isStructured(request.responseFormat);
  const fallback = (): string =>
    structured ? defaultJsonAnswer(request.promptText) : defaultTextAnswer(request.promptText);
  if (malformed) return { tokens: tokenize(truncateAnswer(fallback())), finish: 'length' };

  const queued = takeQueued();
  if (queued !== undefined) return { tokens: tokenize(queued), finish: 'stop' };

  const tokens = tokenize(fallback());
  const cap = request.maxTokens;
  if (!structured && cap !== undefined && tokens.length > cap) {
    return { tokens: tokens.slice(0, cap), finish: 'length' };
  }
  return { tokens, finish: 'stop' };
}
