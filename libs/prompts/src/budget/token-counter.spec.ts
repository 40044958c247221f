import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { importEsm } from '@app/fhir';
import { FIXTURES_DIR } from '@app/testing/synthea';
import { variantChart, variantSummary } from '../fidelity/variant-summary';
import { VARIANTS } from '../fidelity/variants';
import { MODEL_PROFILES, type TokenizerFamily } from '../profiles/model-profiles';
import { HOOK_TEMPLATES, type PromptHook } from '../templates/hook-templates';
import { buildPrompt, MARGIN_TOKENS } from './build-prompt';
import { CachedTokenCounter } from './cached-token-counter';
import {
  referenceTokenCounter,
  tokenCounter,
  TOKEN_PIECE_CACHE_ENTRIES,
  TOKEN_PIECE_MAX_CHARS,
  type TokenCounter,
} from './token-counter';
import { llama2Pieces, llama2SplitHolds, llama3Pieces, type Llama2Tables } from './token-pieces';

const FIXTURE_FILES = readdirSync(FIXTURES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const HOOKS = Object.keys(HOOK_TEMPLATES) as PromptHook[];
const FAMILIES: TokenizerFamily[] = ['llama2', 'llama3'];
const PROFILES = [MODEL_PROFILES['meditron-70b'], MODEL_PROFILES['llama-3-meditron']];
const fast: Partial<Record<TokenizerFamily, TokenCounter>> = {};
const reference: Partial<Record<TokenizerFamily, TokenCounter>> = {};
beforeAll(async () => {
  for (const f of FAMILIES) {
    fast[f] = await tokenCounter(f);
    reference[f] = await referenceTokenCounter(f);
  }
});

/** Deterministic pseudo-random numbers (mulberry32), so a failure names a reproducible case. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fragments where a split rule could go wrong: spaces and newlines in runs, U+2581, byte fallback, specials. */
const FRAGMENTS = [
  ' ',
  '  ',
  '    ',
  '\n',
  '\n\n',
  '\n\n\n',
  '\r\n',
  '\t',
  ' \n',
  '\n ',
  '\u2581',
  '\u2581\u2581',
  ' \u2581',
  'a',
  'the',
  'Patient',
  'hypertension',
  'HbA1c',
  'mg/dL',
  'e\u0301',
  'é',
  'ß',
  'Ω',
  '漢字',
  'русский',
  '😀',
  '👩\u200d⚕️',
  '🇨🇭',
  '\ud800',
  '\u00a0',
  '\u200b',
  '\u3000',
  '0',
  '7',
  '12',
  '123',
  '12345',
  '3.14',
  '-40',
  '1,000',
  '2021-06-01',
  '10^9/L',
  '.',
  ',',
  ':',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  '"',
  "'",
  "'s",
  "'LL",
  "'re",
  '\\n',
  '\\"',
  '...',
  '--',
  '<',
  '<|eot_id|>',
  '<|begin_of_text|>',
  '<|reserved_special_token_250|>',
  '<0x0A>',
  '<s>',
  '</s>',
  '[INST]',
  'x'.repeat(70),
  ' '.repeat(80),
  '9'.repeat(90),
];

function randomText(next: () => number): string {
  const n = Math.floor(next() * 40);
  let s = '';
  for (let i = 0; i < n; i++) s += FRAGMENTS[Math.floor(next() * FRAGMENTS.length)];
  return s;
}

describe('exact token counts by cached pieces', () => {
  it('the Llama 2 split rule holds on the loaded vocabulary, and the check rejects a vocabulary it fails on', async () => {
    const { default: tables } = await importEsm<{ default: Llama2Tables }>('llama-tokenizer-js');
    expect(llama2SplitHolds(tables)).toBe(true);
    const vocab = new Map([...['a', '\u2581b', '<0x0A>', 'c'].entries()].map(([i, s]) => [s, i]));
    expect(llama2SplitHolds({ vocabByString: vocab, merges: new Map([['a \u2581b', 1]]) })).toBe(false);
    expect(llama2SplitHolds({ vocabByString: vocab, merges: new Map([['<0x0A> c', 1]]) })).toBe(false);
    expect(llama2SplitHolds({ vocabByString: vocab, merges: new Map([['c a', 1]]) })).toBe(true);
  });

  it.each(FAMILIES)('%s: random and adversarial strings count exactly as the whole text does', (family) => {
    const next = prng(family === 'llama2' ? 17 : 1717);
    const pieces = family === 'llama2' ? llama2Pieces : llama3Pieces;
    const texts = [
      '',
      ' ',
      '\n',
      '  leading and trailing  ',
      '\n\nnewlines\n\n\n',
      '\u2581\u2581mark',
      ...Array.from({ length: 1500 }, () => randomText(next)),
    ];
    for (const text of texts) {
      expect(pieces(text).join('')).toBe(text);
      expect({ text, count: fast[family]!.count(text) }).toEqual({ text, count: reference[family]!.count(text) });
    }
  });

  it('keeps at most maxEntries pieces, least recently used dropped first, and does not remember long pieces', () => {
    let tokenized = 0;
    const counter = new CachedTokenCounter({
      pieces: (t) => t.split('|'),
      countPiece: (p) => {
        tokenized += 1;
        return p.length;
      },
      maxEntries: 3,
      maxChars: 100,
      maxPieceChars: 5,
    });
    expect(counter.count('a|bb|ccc')).toBe(6);
    expect(counter.count('a|dddd')).toBe(5);
    expect(counter.size).toBe(3);
    tokenized = 0;
    expect(counter.count('a|dddd|ccc')).toBe(8);
    expect(tokenized).toBe(0);
    expect(counter.count('bb')).toBe(2);
    expect(tokenized).toBe(1);
    expect(counter.count('longpiece|longpiece')).toBe(18);
    expect(tokenized).toBe(3);
    expect(counter.size).toBe(3);
    expect(TOKEN_PIECE_CACHE_ENTRIES).toBeGreaterThan(0);
  });

  it('remembers pieces by their characters too: never more than maxChars in all, long ones remembered', () => {
    let tokenized = 0;
    const counter = new CachedTokenCounter({
      pieces: (t) => t.split('|'),
      countPiece: (p) => {
        tokenized += 1;
        return p.length;
      },
      maxEntries: 100,
      maxChars: 10,
      maxPieceChars: 8,
    });
    expect(counter.count('aaaaaaaa|bb')).toBe(10);
    tokenized = 0;
    expect(counter.count('aaaaaaaa|bb')).toBe(10);
    expect(tokenized).toBe(0);
    // Another 8 characters do not fit beside the 10 held: the least recently used piece makes room.
    expect(counter.count('cccccccc')).toBe(8);
    expect(counter.size).toBe(2);
    tokenized = 0;
    expect(counter.count('cccccccc|bb|aaaaaaaa')).toBe(18);
    expect(tokenized).toBe(1);
    // Longer than maxPieceChars: counted each time, never remembered.
    tokenized = 0;
    expect(counter.count('ddddddddd|ddddddddd')).toBe(18);
    expect(tokenized).toBe(2);
    expect(TOKEN_PIECE_MAX_CHARS).toBeGreaterThanOrEqual(89);
  });

  const CASES = FIXTURE_FILES.flatMap((f) =>
    VARIANTS.map((v) => [f.split('_').slice(0, 2).join(' '), v.name, f] as const),
  );

  it.each(CASES)(
    '%s / %s: every hook, both profiles, the prompt counts as the tokenizer counts it',
    async (_l, name, file) => {
      const variant = VARIANTS.find((v) => v.name === name)!;
      const chart = variantChart(join(FIXTURES_DIR, file), variant);
      let trimmedAny = false;
      for (const hook of HOOKS) {
        const summary = await variantSummary(chart, variant, hook);
        for (const profile of PROFILES) {
          const built = await buildPrompt(hook, summary, profile);
          const text = built.prompt ?? JSON.stringify(built.messages);
          const exact = reference[profile.tokenizer]!.count(text);
          expect({ hook, profile: profile.id, tokens: built.manifest.promptTokens }).toEqual({
            hook,
            profile: profile.id,
            tokens: exact,
          });
          expect(fast[profile.tokenizer]!.count(text)).toBe(exact);
          if (name !== 'as sent') continue;
          // A budget of about half the prompt: the trimming recounts must be exact too.
          const contextTokens = Math.floor(exact / 2) + profile.maxOutputTokens + MARGIN_TOKENS;
          const trimmed = await buildPrompt(hook, summary, profile, { contextTokens });
          const trimmedText = trimmed.prompt ?? JSON.stringify(trimmed.messages);
          expect(trimmed.manifest.promptTokens).toBe(reference[profile.tokenizer]!.count(trimmedText));
          trimmedAny ||= trimmedText.length < text.length;
        }
      }
      expect(trimmedAny).toBe(name !== 'as sent' ? false : true);
    },
  );
});
