import { importEsm } from '@app/fhir';
import type { TokenizerFamily } from '../profiles/model-profiles';
import { CachedTokenCounter } from './cached-token-counter';
import { llama2Pieces, llama2SplitHolds, llama3Pieces, type Llama2Tables } from './token-pieces';

export interface TokenCounter {
  count(text: string): number;
}

interface Llama2Encoder extends Llama2Tables {
  encode(text: string, addBos: boolean, addPrecedingSpace: boolean): number[];
}

interface Llama3Encoder {
  encode(text: string, options: { bos: boolean; eos: boolean }): number[];
}

/**
 * Pieces (mostly words with their leading spaces, and handles) whose counts are remembered per process and
 * tokenizer family. A prompt has 1-3 thousand distinct pieces, mostly shared between prompts (template,
 * worked example, clinical vocabulary); 20,000 keeps a busy service's working set while holding at most
 * 1,280,000 characters in all (20,000 x 64; a few MB with the map's own overhead). Pieces up to 1,024
 * characters are remembered: the template's worked example has one of 89 (a JSON run without spaces) that
 * every prompt carries, and tokenizing it on each count was most of the tokenizer's time per hook.
 */
export const TOKEN_PIECE_CACHE_ENTRIES = 20_000;
export const TOKEN_PIECE_CACHE_CHARS = 20_000 * 64;
export const TOKEN_PIECE_MAX_CHARS = 1_024;

const loaded = new Map<string, Promise<TokenCounter>>();

function once(key: string, make: () => Promise<TokenCounter>): Promise<TokenCounter> {
  let counter = loaded.get(key);
  if (!counter) {
    counter = make();
    counter.catch(() => loaded.delete(key));
    loaded.set(key, counter);
  }
  return counter;
}

/** The family's tokenizer counting a whole text (the reference the fast counter is proven against). */
function referenceCount(family: TokenizerFamily): Promise<(text: string) => number> {
  if (family === 'llama2')
    return importEsm<{ default: Llama2Encoder }>('llama-tokenizer-js').then(
      ({ default: encoder }) =>
        (text: string) =>
          encoder.encode(text, false, false).length,
    );
  return importEsm<{ default: Llama3Encoder }>('llama3-tokenizer-js').then(
    ({ default: encoder }) =>
      (text: string) =>
        encoder.encode(text, { bos: false, eos: false }).length,
  );
}

/**
 * The model family's real tokenizer (Llama 2's SentencePiece vocabulary for Meditron-70B, Llama 3's BPE for
 * Llama-3-Meditron), loaded once per process (both packages are ESM-only), counting exactly as it does on
 * the whole text, by pieces cached by content. The Llama 2 split rule is checked on the loaded vocabulary;
 * if it did not hold (another vocabulary), whole texts are counted.
 */
export function tokenCounter(family: TokenizerFamily): Promise<TokenCounter> {
  return once(family, async () => {
    const countPiece = await referenceCount(family);
    let pieces = llama3Pieces;
    if (family === 'llama2') {
      const { default: tables } = await importEsm<{ default: Llama2Encoder }>('llama-tokenizer-js');
      pieces = llama2SplitHolds(tables) ? llama2Pieces : (text: string) => (text ? [text] : []);
    }
    return new CachedTokenCounter({
      pieces,
      countPiece,
      maxEntries: TOKEN_PIECE_CACHE_ENTRIES,
      maxChars: TOKEN_PIECE_CACHE_CHARS,
      maxPieceChars: TOKEN_PIECE_MAX_CHARS,
    });
  });
}

/** The family's tokenizer on the whole text, uncached: what `tokenCounter` must always agree with. */
export function referenceTokenCounter(family: TokenizerFamily): Promise<TokenCounter> {
  return once(`${family}:reference`, async () => ({ count: await referenceCount(family) }));
}
