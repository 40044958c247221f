import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CachedTokenCounter } from './cached-token-counter';
import { llama2Pieces } from './token-pieces';

// A full collection on demand (the test measures what stays reachable, not what is merely not yet collected).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const heapAfterGc = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

function counter(): CachedTokenCounter {
  return new CachedTokenCounter({
    pieces: llama2Pieces,
    // Any per-piece count will do here: what is checked is what the cache keeps, not the counts.
    countPiece: (piece) => piece.length,
    maxEntries: 10_000,
    maxChars: 10_000 * 64,
    maxPieceChars: 1_024,
  });
}

describe('CachedTokenCounter', () => {
  it('counts a text as the sum of its pieces, looking a repeated piece up instead of counting it again', () => {
    const counted: string[] = [];
    const c = new CachedTokenCounter({
      pieces: llama2Pieces,
      countPiece: (piece) => {
        counted.push(piece);
        return piece.length;
      },
      maxEntries: 100,
      maxChars: 6_400,
      maxPieceChars: 1_024,
    });
    expect(c.count('aspirin 81 mg aspirin')).toBe('aspirin 81 mg aspirin'.length);
    expect(counted).toEqual(['aspirin', ' 81', ' mg', ' aspirin']);
    expect(c.count(' mg aspirin')).toBe(11);
    expect(counted).toHaveLength(4);
  });

  it('keeps its cached pieces without the prompts they were cut from', () => {
    // 300 prompts of ~21 KB, each with one long piece of its own: V8 cuts a substring of 13+ characters as a
    // view of its parent, so a cache that kept the piece itself would keep all 300 prompts (~6 MB) reachable.
    const c = counter();
    const filler = 'filler '.repeat(3_000);
    const before = heapAfterGc();
    for (let i = 0; i < 300; i++) c.count(`${filler} hyperlipidemia_variant_${String(i).padStart(4, '0')}`);
    const retained = heapAfterGc() - before;
    expect(c.size).toBeGreaterThanOrEqual(300);
    expect(retained).toBeLessThan(2 * 1024 * 1024);
  });
});
