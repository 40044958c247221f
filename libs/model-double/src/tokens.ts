/**
 * The double's approximate tokenizer: a token is a run of letters/digits or one punctuation
 * character, each with the whitespace before it. Joining the tokens gives back the text exactly.
 */
const TOKEN = /\s*[\p{L}\p{N}_]+|\s*[^\s\p{L}\p{N}_]|\s+/gu;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}
