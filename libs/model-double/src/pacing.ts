import { pause as sleep } from '@app/timing';
import type { Latency } from './types';

/**
 * Emits tokens on the double's clock: the first after ttftMs, each next one perTokenMs later, and
 * one more perTokenMs for the end-of-sequence step, so a whole answer takes ttft + n * perToken.
 * `emit` returns false to stop early. Resolves true when the generation ran to its end.
 */
export async function paceTokens(
  tokens: readonly string[],
  latency: Latency,
  signal: AbortSignal,
  emit: (token: string, index: number) => Promise<boolean>,
): Promise<boolean> {
  if (!(await sleep(latency.ttftMs, signal))) return false;
  for (const [index, token] of tokens.entries()) {
    if (index > 0 && !(await sleep(latency.perTokenMs, signal))) return false;
    if (!(await emit(token, index))) return false;
  }
  if (tokens.length > 0 && !(await sleep(latency.perTokenMs, signal))) return false;
  return !signal.aborted;
}
