/**
 * Where a text can be cut so that its token count is the sum of its pieces' counts, exactly as the model
 * family's tokenizer counts the whole. The pieces are short and repeat across prompts (words, handles,
 * template lines), so their counts can be cached by content (see CachedTokenCounter).
 */

/** What a Llama 2 split rule needs to know of the loaded vocabulary (llama-tokenizer-js's own tables). */
export interface Llama2Tables {
  readonly vocabByString: ReadonlyMap<string, number>;
  readonly merges: ReadonlyMap<string, number>;
}

const SPACE_MARK = '\u2581';
const NEWLINE_BYTE = '<0x0A>';

/**
 * Llama 2 (SentencePiece BPE as llama-tokenizer-js runs it, no dummy prefix): a piece is a newline alone, or a
 * run of spaces and the non-space characters after it. Cutting there is exact when no merge of the vocabulary
 * joins a token ending in a non-space to one starting with a space mark, and none involves the newline byte
 * token (`llama2SplitHolds` checks both on the loaded tables). A literal U+2581 is a space to the tokenizer.
 */
const LLAMA2_PIECE = /\n|[ \u2581]*[^ \u2581\n]+|[ \u2581]+/g;

export function llama2Pieces(text: string): string[] {
  return text.match(LLAMA2_PIECE) ?? [];
}

/**
 * Proves the Llama 2 split rule on the loaded vocabulary by exhaustion: every merge (its key is the two
 * tokens' strings joined by a space; every way to read it as two vocabulary tokens is checked) must neither
 * involve the newline byte token nor join a token ending in a non-space to one starting with a space mark.
 * BPE then never merges across such a cut, and each side's merges run in the same order alone as together.
 */
export function llama2SplitHolds(tables: Llama2Tables): boolean {
  for (const key of tables.merges.keys()) {
    let readings = 0;
    for (let i = key.indexOf(' '); i >= 0; i = key.indexOf(' ', i + 1)) {
      const left = key.slice(0, i);
      const right = key.slice(i + 1);
      if (!tables.vocabByString.has(left) || !tables.vocabByString.has(right)) continue;
      readings += 1;
      if (left === NEWLINE_BYTE || right === NEWLINE_BYTE) return false;
      if (!left.endsWith(SPACE_MARK) && right.startsWith(SPACE_MARK)) return false;
    }
    if (readings === 0) return false;
  }
  return true;
}

/**
 * Llama 3 (llama3-tokenizer-js): its own two splits, copied from its source. Special tokens first, then the
 * pre-tokenizer's pattern; BPE runs within each pre-token alone, so the count is the sum over pre-tokens. A
 * pre-token tokenized alone splits into itself (the only lookahead, `\s+(?!\S)`, can only match more of a
 * whitespace-only pre-token at its end), so its count alone is its count in place.
 */
const LLAMA3_SPECIAL =
  /<\|(?:begin_of_text|end_of_text|start_header_id|end_header_id|eot_id|eom_id|python_tag|finetune_right_pad_id|reserved_special_token_(?:[0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-3][0-9]|24[0-7]))\|>/g;
const LLAMA3_PRETOKEN =
  /(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

/** The library's regexSplit: the matches and the text between them, in order, none empty. */
function regexSplit(text: string, pattern: RegExp, out: string[]): void {
  let prev = 0;
  for (const match of text.matchAll(pattern)) {
    if (prev < match.index) out.push(text.slice(prev, match.index));
    if (match[0].length > 0) out.push(match[0]);
    prev = match.index + match[0].length;
  }
  if (prev < text.length) out.push(text.slice(prev));
}

export function llama3Pieces(text: string): string[] {
  const bySpecial: string[] = [];
  regexSplit(text, LLAMA3_SPECIAL, bySpecial);
  const out: string[] = [];
  // As the library decides: a part with a special token in it is one (the parts between them have none).
  for (const part of bySpecial) {
    if (part.match(LLAMA3_SPECIAL) !== null) out.push(part);
    else regexSplit(part, LLAMA3_PRETOKEN, out);
  }
  return out;
}
