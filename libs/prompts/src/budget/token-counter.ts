import { importEsm } from '@app/fhir';
import type { TokenizerFamily } from '../profiles/model-profiles';

export interface TokenCounter {
  count(text: string): number;
}

interface Encoder {
  encode(text: string, ...options: unknown[]): number[];
}

const loaded = new Map<TokenizerFamily, Promise<TokenCounter>>();

/**
 * The model family's real tokenizer (Llama 2's SentencePiece vocabulary for Meditron-70B, Llama 3's BPE for
 * Llama-3-Meditron), loaded once per process. Both packages are ESM-only.
 */
export function tokenCounter(family: TokenizerFamily): Promise<TokenCounter> {
  let counter = loaded.get(family);
  if (!counter) {
    const pkg = family === 'llama2' ? 'llama-tokenizer-js' : 'llama3-tokenizer-js';
    counter = importEsm<{ default: Encoder }>(pkg).then(({ default: encoder }) => ({
      count: (text: string) =>
        family === 'llama2'
          ? encoder.encode(text, false, false).length
          : encoder.encode(text, { bos: false, eos: false }).length,
    }));
    counter.catch(() => loaded.delete(family));
    loaded.set(family, counter);
  }
  return counter;
}
