import { neutraliseControlTokens } from './control-tokens';

/**
 * Second de-identification pass over any free text that enters a prompt (displays, notes, dosage text).
 * Structured facts are already chosen to carry no identifiers; this catches what free text smuggles in.
 * Clinical numbers (doses, lab values) survive: only identifier-shaped patterns are replaced.
 */
const MONTH =
  '(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)';
const HONORIFICS = '(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Rev)';
/** Relations, either case for the first letter only (the name after them must stay capitalised). */
const RELATIVES = `(?:${'mother|father|mom|dad|wife|husband|spouse|partner|son|daughter|brother|sister|sibling|aunt|uncle|grandmother|grandfather|guardian|caregiver|friend|neighbour|neighbor'
  .split('|')
  .map((w) => `[${w[0]!.toUpperCase()}${w[0]}]${w.slice(1)}`)
  .join('|')})`;
const NAME_WORD = "\\p{Lu}[\\p{Ll}'\\u2019-]+\\d*";

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b/g, '[email]'],
  [/\bhttps?:\/\/\S+/gi, '[url]'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '[ip]'],
  // SSNs written with dashes, spaces or dots.
  [/\b\d{3}[-\s.]\d{2}[-\s.]\d{4}\b/g, '[ssn]'],
  [/(?:\+?1[ .-]?)?\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b/g, '[phone]'],
  [/\b\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b/g, '[date]'],
  // dd/mm/yyyy, dd.mm.yyyy, dd-mm-yyyy (one separator throughout: "1.5-2.00" is a range, not a date).
  [/\b\d{1,2}([/.-])\d{1,2}\1\d{2,4}\b/g, '[date]'],
  // "December 2, 1957", "Dec 2nd 1957", "2 December 1957", "December 1957".
  [new RegExp(`\\b${MONTH}\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?,?\\s+\\d{4}\\b`, 'gi'), '[date]'],
  [new RegExp(`\\b\\d{1,2}(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH}\\.?,?\\s+\\d{4}\\b`, 'gi'), '[date]'],
  [new RegExp(`\\b${MONTH}\\.?,?\\s+\\d{4}\\b`, 'gi'), '[date]'],
  // Ages over 89 are identifying (Safe Harbor): "aged 95", "age: 93", "95-year-old", "95 years old", "95 yo".
  [/\b(?:aged?|age:)\s*(?:9\d|1\d\d)\b/gi, 'aged 90 or older'],
  [/\b(?:9\d|1\d\d)(?:-|\s)?(?:years?|yrs?|y\/?o)(?:-|\s)?(?:old)?\b/gi, '90 or older'],
  // Record numbers named as such, whole or partial: "MRN 4567", "MRN ending in 4567", "acct# ...89", "ID: x1234".
  [
    /\b(?:MRN|medical record(?: number| no\.?)?|record (?:number|no\.?)|acct|account(?: number| no\.?)?|patient id|member id|ID)\s*(?:#|:|no\.?)?\s*(?:ending(?: in| with)?|ends with|last 4)?\s*[:#]?\s*[*xX.…]*[A-Za-z]{0,3}\d[\w-]*/gi,
    '[id]',
  ],
  // Masked identifiers: "***-**-1234", "xxxx4567", "...4567".
  [/(?:[*xX]{2,}[-\s]?)+\d{3,}\b/g, '[id]'],
  [/(?:\.{3}|…)\d{3,}\b/g, '[id]'],
  // Long digit runs or letter+digit codes: MRNs, account, licence, passport and device numbers.
  [/\b[A-Z]{0,3}\d{6,}\b/g, '[id]'],
  [/\b[A-Z]\d{5,}[A-Z]?\b/g, '[id]'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '[id]'],
  // Unknown names, by rule: an honorific followed by one to three capitalised words ("Dr. Anne Smith"), or a
  // relative named right after the relation ("daughter Mary", "wife, Jane Doe"). A capitalised word alone is
  // not redacted: drug, organism and eponym names (Humulin, Staphylococcus, Parkinson) are capitalised too.
  [new RegExp(`\\b${HONORIFICS}\\.?\\s+${NAME_WORD}(?:\\s+${NAME_WORD}){0,2}`, 'gu'), '[name]'],
  [
    new RegExp(
      `\\b(${RELATIVES})(?:'s)?(?:,|\\s+is|\\s+named|\\s+called)?\\s+${NAME_WORD}(?:\\s+${NAME_WORD}){0,2}`,
      'gu',
    ),
    '$1 [name]',
  ],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One case-insensitive whole-word pattern for a list of strings, longest first; null for none. */
function alternation(strings: ReadonlyArray<string>): RegExp | null {
  const parts = [...strings].sort((a, b) => b.length - a.length).map((s) => `(?<![\\w])${escapeRegExp(s)}(?![\\w])`);
  return parts.length > 0 ? new RegExp(parts.join('|'), 'gi') : null;
}

export interface RedactorOptions {
  /** Control strings of the model profile beyond the built-in list (see neutraliseControlTokens). */
  readonly controlStrings?: ReadonlyArray<string>;
}

export class Redactor {
  private readonly known: RegExp | null;
  /** Known identifiers that carry a digit (record numbers, phones, dates, postal codes): see redactTerminology. */
  private readonly knownNumbers: RegExp | null;
  private readonly controlStrings: ReadonlyArray<string>;
  /**
   * Terminology displays already redacted, by text: a record repeats the same displays (every blood pressure,
   * every visit's diagnosis), and the result depends only on the text and this redactor. One summary's worth.
   */
  private readonly terminology = new Map<string, string>();

  /**
   * @param identifiers strings known to identify this patient or name a person in the record (see
   *   patientIdentifiers, recordNames); redacted wherever they appear, case-insensitively, as whole words
   */
  constructor(identifiers: ReadonlyArray<string>, options: RedactorOptions = {}) {
    const unique = [...new Set(identifiers.map((s) => s.trim()))].filter((s) => s.length >= 2);
    this.known = alternation(unique);
    this.knownNumbers = alternation(unique.filter((s) => /\d/.test(s)));
    this.controlStrings = options.controlStrings ?? [];
  }

  /** Free text typed by a person: known identifiers, identifier-shaped patterns, names by rule, control tokens. */
  redact(text: string): string {
    let out = this.known ? text.replace(this.known, '[redacted]') : text;
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return this.finish(out);
  }

  /**
   * A terminology display (RxNorm, SNOMED CT, LOINC): product and batch codes in it are clinical, not
   * identifiers, and its words are the code system's, not a person's: a clinician or town named Parkinson or Lyme
   * must not turn "Parkinson's disease" into "[redacted]'s disease". Only known identifiers that carry a digit (a
   * record number, phone or date pasted where a display belongs) and control tokens are removed.
   */
  redactTerminology(text: string): string {
    let out = this.terminology.get(text);
    if (out === undefined) {
      out = this.finish(this.knownNumbers ? text.replace(this.knownNumbers, '[redacted]') : text);
      this.terminology.set(text, out);
    }
    return out;
  }

  private finish(text: string): string {
    return neutraliseControlTokens(text.replace(/\s+/g, ' '), this.controlStrings).trim();
  }
}
