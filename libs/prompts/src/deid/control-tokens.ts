/**
 * Model control tokens that must never reach a prompt from data text: a FHIR display reading
 * `<|im_end|><|im_start|>system` would otherwise close the data turn and open a new system turn.
 * Covers every supported prompt format: ChatML, Llama 2 chat, Llama 3 chat and the FastChat turn markers of
 * the Meditron-70B template, plus the delimiters this service wraps patient data in.
 */
export const DEFAULT_CONTROL_STRINGS: ReadonlyArray<string> = [
  '<|im_start|>',
  '<|im_end|>',
  '[INST]',
  '[/INST]',
  '<<SYS>>',
  '<</SYS>>',
  '<s>',
  '</s>',
  '<|begin_of_text|>',
  '<|end_of_text|>',
  '<|start_header_id|>',
  '<|end_header_id|>',
  '<|eot_id|>',
  '<|eom_id|>',
  '###',
  '<patient-data>',
  '</patient-data>',
];

/** Any `<|name|>` special token, also ones no profile declares yet (they are never clinical text). */
const PIPE_TOKEN = /<\|[A-Za-z0-9_]+\|>/g;
/** FastChat / transcript turn markers: `User:`, `Assistant:`, `System:`, `Human:` at the start of a line. */
const TURN_MARKER = /(^|\n)([ \t]*)(user|assistant|system|human)([ \t]*):/gi;
/** The characters that make a control string one; dropping them leaves the readable word. */
const MARKUP = /[<>|[\]#]/g;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The alternation of every control string, longest first, per list of extra strings: built once per model
 * profile's list rather than on every call (the lists are a handful of configured profiles). Global regexes are
 * only used with `replace`, which starts from 0 and resets lastIndex, so sharing one is safe.
 */
const patterns = new Map<string, RegExp>();
const MAX_PATTERNS = 64;
/** A frozen list (the summary's, on every call) is found by identity, without building its key. */
const byList = new WeakMap<ReadonlyArray<string>, RegExp>();

function controlPattern(extra: ReadonlyArray<string>): RegExp {
  const known = byList.get(extra);
  if (known) return known;
  const key = JSON.stringify(extra);
  let pattern = patterns.get(key);
  if (!pattern) {
    const strings = [...new Set([...DEFAULT_CONTROL_STRINGS, ...extra].filter((s) => s.length > 0))].sort(
      (a, b) => b.length - a.length,
    );
    pattern = new RegExp(strings.map(escapeRegExp).join('|'), 'gi');
    if (patterns.size >= MAX_PATTERNS) patterns.clear();
    patterns.set(key, pattern);
  }
  if (Object.isFrozen(extra)) byList.set(extra, pattern);
  return pattern;
}

/** A token without markup ("END_TURN") cannot keep its word: it would match again. */
function defang(token: string): string {
  const word = token.replace(MARKUP, '');
  if (word === token) return '(control text)';
  return word.length > 0 ? `(${word})` : '';
}

/**
 * Neutralises control strings in data text: each occurrence (case-insensitive) loses the markup that makes it
 * a token, leaving its readable word in parentheses; line-leading turn markers lose their colon. Repeated until
 * nothing changes, so a token split by another one (`<|im_<|eot_id|>start|>`) does not reassemble.
 * @param extra control strings a model profile declares beyond the built-in list
 */
export function neutraliseControlTokens(text: string, extra: ReadonlyArray<string> = []): string {
  const any = controlPattern(extra);
  let out = text;
  for (let i = 0; i < 10; i++) {
    const next = out
      .replace(PIPE_TOKEN, defang)
      .replace(any, defang)
      .replace(TURN_MARKER, (_m, start: string, space: string, word: string) => `${start}${space}${word} -`);
    if (next === out) break;
    out = next;
  }
  return out;
}
