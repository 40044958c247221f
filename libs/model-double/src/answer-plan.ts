import { defaultJsonAnswer, defaultTextAnswer, truncateAnswer } from './answers';
import { applyStops, baseModelRunOn } from './base-model';
import type { GenerationRequest } from './generation-request';
import type { FinishReason } from './openai-shapes';
import { tokenize } from './tokens';
import type { DoubleFlavour, DoubleMode } from './types';

export interface AnswerPlan {
  tokens: string[];
  finish: FinishReason;
  /** The finish came from a stop string (TGI reports it as `stop_sequence`). */
  byStopString: boolean;
}

/**
 * What to generate: an enqueued text exactly as given; else the default answer (JSON when a grammar is in
 * force), and in 'base' mode without a grammar the answer run on into invented turns. Stop strings cut the
 * text as the flavour does; text without a grammar is capped at max_tokens. 'malformed' cuts the default
 * answer in half (finish 'length', as a model stopped early) and leaves the queue alone.
 */
export function planAnswer(
  request: GenerationRequest,
  malformed: boolean,
  takeQueued: () => string | undefined,
  mode: DoubleMode,
  flavour: DoubleFlavour,
): AnswerPlan {
  const structured = request.structured;
  const json = (): string => defaultJsonAnswer(request.promptText, request.schema);
  const fallback = (): string =>
    structured ? json() : mode === 'base' ? baseModelRunOn(json()) : defaultTextAnswer(request.promptText);
  if (malformed) {
    const whole = structured ? json() : defaultTextAnswer(request.promptText);
    return { tokens: tokenize(truncateAnswer(whole)), finish: 'length', byStopString: false };
  }

  const queued = takeQueued();
  const raw = queued ?? fallback();
  const cut = applyStops(flavour, raw, request.stop);
  const tokens = tokenize(cut.text);
  const cap = request.maxTokens;
  if (queued === undefined && !structured && cap !== undefined && tokens.length > cap) {
    return { tokens: tokens.slice(0, cap), finish: 'length', byStopString: false };
  }
  return { tokens, finish: 'stop', byStopString: cut.stopped };
}
