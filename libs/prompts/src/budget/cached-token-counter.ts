import { LRUCache } from 'lru-cache';
import type { TokenCounter } from './token-counter';

export interface CachedTokenCounterOptions {
  /** Cuts a text into pieces whose counts add up to the text's count (a proven rule, see token-pieces.ts). */
  readonly pieces: (text: string) => string[];
  /** The reference count of one piece (the family's tokenizer). */
  readonly countPiece: (piece: string) => number;
  /** Pieces remembered, least recently used dropped first. */
  readonly maxEntries: number;
  /** Characters of all remembered pieces together at most (least recently used dropped first to make room). */
  readonly maxChars: number;
  /** Longer pieces are counted every time and not remembered. */
  readonly maxPieceChars: number;
}

/**
 * A copy of `piece` that does not keep the text it was cut from alive. The pieces come from `String.match` on a
 * whole prompt, and V8 represents a substring of 13 characters or more as a view into its parent string: a cached
 * piece would pin its prompt (tens of KB) for as long as it stays in the cache, so 20,000 entries bounded at
 * 1.28 M characters could hold hundreds of MB of prompts. The concatenation is flattened into a new string one
 * character longer than the piece, and the result is cut from that copy, not from the prompt; only a miss pays for it.
 */
function detached(piece: string): string {
  return ` ${piece}`.slice(1);
}

/**
 * Exact token counts at a fraction of the tokenizer's cost: the text is cut where the tokenizer never merges
 * across, and each piece's count is remembered by content (bounded LRU). The pieces are mostly words and
 * handles that recur across prompts and across a budget's recounts, so most are looked up, not tokenized.
 */
export class CachedTokenCounter implements TokenCounter {
  private readonly cache: LRUCache<string, number>;

  constructor(private readonly opts: CachedTokenCounterOptions) {
    this.cache = new LRUCache<string, number>({
      max: opts.maxEntries,
      maxSize: opts.maxChars,
      sizeCalculation: (_count, piece) => Math.max(1, piece.length),
    });
  }

  count(text: string): number {
    let total = 0;
    for (const piece of this.opts.pieces(text)) total += this.countOne(piece);
    return total;
  }

  /** Pieces remembered now (for tests and metrics; never more than maxEntries). */
  get size(): number {
    return this.cache.size;
  }

  private countOne(piece: string): number {
    if (piece.length > this.opts.maxPieceChars) return this.opts.countPiece(piece);
    const known = this.cache.get(piece);
    if (known !== undefined) return known;
    const n = this.opts.countPiece(piece);
    this.cache.set(detached(piece), n);
    return n;
  }
}
