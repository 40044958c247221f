export type JsonStructureProblem = 'json_too_deep' | 'json_array_too_long';

/** Why a text is not an acceptable JSON body: a structure limit, not JSON at all, or JSON whose top is not an object. */
export type JsonTextProblem = JsonStructureProblem | 'malformed_json' | 'not_an_object';

export interface JsonLimits {
  /** Most containers (objects and arrays) open at once. */
  readonly maxDepth: number;
  /** Most elements in any one array. */
  readonly maxArrayLength: number;
}

const OBJECT = 1;
const ARRAY = 2;

// Character codes.
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const UPPER_E = 0x45;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const LOWER_E = 0x65;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isWhitespace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string whose opening quote is at `i`, or -1 when it is not a valid JSON string. */
function endOfString(text: string, i: number): number {
  const n = text.length;
  for (let j = i + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) return j + 1;
    if (c < SPACE) return -1; // control characters must be escaped
    if (c !== BACKSLASH) continue;
    const e = text.charCodeAt(++j); // NaN past the end: refused below
    if (e === 0x75) {
      // \uXXXX
      if (!(isHex(text.charCodeAt(j + 1)) && isHex(text.charCodeAt(j + 2)))) return -1;
      if (!(isHex(text.charCodeAt(j + 3)) && isHex(text.charCodeAt(j + 4)))) return -1;
      j += 4;
    } else if (
      e !== QUOTE &&
      e !== BACKSLASH &&
      e !== SLASH &&
      e !== 0x62 && // b
      e !== 0x66 && // f
      e !== 0x6e && // n
      e !== 0x72 && // r
      e !== 0x74 // t
    ) {
      return -1;
    }
  }
  return -1;
}

/** Index just past the number starting at `i` (RFC 8259: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?), or -1. */
function endOfNumber(text: string, i: number): number {
  if (text.charCodeAt(i) === MINUS) i++;
  const first = text.charCodeAt(i);
  if (first === ZERO) i++;
  else if (isDigit(first)) while (isDigit(text.charCodeAt(++i)));
  else return -1;
  if (text.charCodeAt(i) === DOT) {
    if (!isDigit(text.charCodeAt(++i))) return -1;
    while (isDigit(text.charCodeAt(++i)));
  }
  const e = text.charCodeAt(i);
  if (e === LOWER_E || e === UPPER_E) {
    const sign = text.charCodeAt(++i);
    if (sign === PLUS || sign === MINUS) i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    while (isDigit(text.charCodeAt(++i)));
  }
  return i;
}

/** Index just past `word` (true, false, null) when the text has it at `i`, or -1. */
function endOfLiteral(text: string, i: number, word: string): number {
  return text.startsWith(word, i) ? i + word.length : -1;
}

/**
 * One pass over a request body's text that decides everything the gateway needs before forwarding it, without
 * building it: the text is JSON (exactly RFC 8259, what JSON.parse accepts), its top is an object, no more than
 * `maxDepth` containers are open at once and no array has more than `maxArrayLength` elements. Hostile shapes are
 * refused where they start, before anything past them is read. null when the text is acceptable.
 *
 * A text that is both malformed and past a limit gets the code of whichever comes first in the text.
 */
export function checkJsonText(text: string, limits: JsonLimits): JsonTextProblem | null {
  const kinds = new Uint8Array(limits.maxDepth + 1);
  const counts = new Float64Array(limits.maxDepth + 1);
  const n = text.length;
  let depth = 0;
  let i = skipWhitespace(text, 0);
  const topIsObject = text.charCodeAt(i) === OPEN_BRACE;
  // Each turn reads one value at i (opening a container reads up to its first value), then what follows it.
  for (;;) {
    // --- one value (containers are opened here and closed below) ---
    const c = text.charCodeAt(i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limits.maxDepth) return 'json_too_deep';
      kinds[depth] = c === OPEN_BRACE ? OBJECT : ARRAY;
      counts[depth] = 0;
      i = skipWhitespace(text, i + 1);
      const close = text.charCodeAt(i);
      if (c === OPEN_BRACE && close === CLOSE_BRACE) {
        depth--;
        i++;
      } else if (c === OPEN_BRACKET && close === CLOSE_BRACKET) {
        depth--;
        i++;
      } else {
        if (c === OPEN_BRACKET) {
          counts[depth] = 1;
          if (limits.maxArrayLength < 1) return 'json_array_too_long';
          continue; // the first element
        }
        i = member(text, i);
        if (i < 0) return 'malformed_json';
        continue; // the first member's value
      }
    } else if (c === QUOTE) {
      i = endOfString(text, i);
    } else if (c === MINUS || isDigit(c)) {
      i = endOfNumber(text, i);
    } else if (c === 0x74) {
      i = endOfLiteral(text, i, 'true');
    } else if (c === 0x66) {
      i = endOfLiteral(text, i, 'false');
    } else if (c === 0x6e) {
      i = endOfLiteral(text, i, 'null');
    } else {
      return 'malformed_json';
    }
    if (i < 0) return 'malformed_json';
    // --- after a value: a separator, a closer, or the end of the text ---
    for (;;) {
      i = skipWhitespace(text, i);
      if (depth === 0) {
        if (i !== n) return 'malformed_json';
        return topIsObject ? null : 'not_an_object';
      }
      const s = text.charCodeAt(i);
      if (s === COMMA) {
        i = skipWhitespace(text, i + 1);
        if (kinds[depth] === ARRAY) {
          if (++counts[depth]! > limits.maxArrayLength) return 'json_array_too_long';
        } else {
          i = member(text, i);
          if (i < 0) return 'malformed_json';
        }
        break; // the next value
      }
      if ((s === CLOSE_BRACE && kinds[depth] === OBJECT) || (s === CLOSE_BRACKET && kinds[depth] === ARRAY)) {
        depth--;
        i++;
        continue;
      }
      return 'malformed_json';
    }
  }
}

/** At `i`, an object member's `"name"` and `:`: the index of its value (whitespace skipped), or -1. */
function member(text: string, i: number): number {
  if (text.charCodeAt(i) !== QUOTE) return -1;
  i = endOfString(text, i);
  if (i < 0) return -1;
  i = skipWhitespace(text, i);
  if (text.charCodeAt(i) !== COLON) return -1;
  return skipWhitespace(text, i + 1);
}
