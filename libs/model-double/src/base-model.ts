import type { DoubleFlavour } from './types';

const RUN_ON_REPEATS = 40;

/**
 * What a foundation model writes after an open `### Assistant:` turn with no grammar: the answer, then it
 * keeps going, inventing the next turns of the conversation (it has no end-of-turn training). The invented
 * turns are fixed text, so a test sees exactly where a stop string must cut.
 */
export function baseModelRunOn(answer: string): string {
  const invented = [
    '\n### User: Thank you. What else should be checked for this patient?',
    '\n### Assistant: Review the medication list again at the next visit and repeat the laboratory tests.',
    '\n### User: Anything about the allergies?',
    '\n### Assistant: No further findings. Assistant: User: continue',
  ];
  // Long enough to reach any max_tokens the proxy sends (512): a base model never ends on its own.
  return ` ${answer}${invented.join('').repeat(RUN_ON_REPEATS)}`;
}

export interface Stopped {
  text: string;
  /** A stop string ended the text. */
  stopped: boolean;
}

/**
 * Cuts generated text at the first stop string. vLLM leaves it out (`include_stop_str_in_output` defaults to
 * false, vllm/sampling_params.py); TGI keeps it (server/text_generation_server/utils/tokens.py
 * `StopSequenceCriteria` matches the decoded output, which is returned whole).
 */
export function applyStops(flavour: DoubleFlavour, text: string, stop: ReadonlyArray<string>): Stopped {
  let at = -1;
  let hit = '';
  for (const s of stop) {
    if (s.length === 0) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) {
      at = i;
      hit = s;
    }
  }
  if (at < 0) return { text, stopped: false };
  return { text: flavour === 'tgi' ? text.slice(0, at + hit.length) : text.slice(0, at), stopped: true };
}
