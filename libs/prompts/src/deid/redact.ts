/**
 * Second de-identification pass over any free text that enters a prompt (displays, notes, dosage text).
 * Structured facts are already chosen to carry no identifiers; this catches what free text smuggles in.
 * Clinical numbers (doses, lab values) survive: only identifier-shaped patterns are replaced.
 */
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b/g, '[email]'],
  [/\bhttps?:\/\/\S+/gi, '[url]'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '[ip]'],
  [/\b\d{3}-\d{2}-\d{4}\b/g, '[ssn]'],
  [/(?:\+?1[ .-]?)?\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b/g, '[phone]'],
  [/\b\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b/g, '[date]'],
  [/\b\d{1,2}\/\d{1,2}\/\d{2,4}\b/g, '[date]'],
  // Long digit runs or letter+digit codes: MRNs, account, licence, passport and device numbers.
  [/\b[A-Z]{0,3}\d{6,}\b/g, '[id]'],
  [/\b[A-Z]\d{5,}[A-Z]?\b/g, '[id]'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '[id]'],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Redactor {
  private readonly known: RegExp | null;

  /** @param identifiers strings known to identify this patient (see patientIdentifiers) */
  constructor(identifiers: ReadonlyArray<string>) {
    const parts = identifiers
      .filter((s) => s.length >= 2)
      .sort((a, b) => b.length - a.length)
      .map((s) => `(?<![\\w])${escapeRegExp(s)}(?![\\w])`);
    this.known = parts.length > 0 ? new RegExp(parts.join('|'), 'gi') : null;
  }

  redact(text: string): string {
    let out = this.known ? text.replace(this.known, '[redacted]') : text;
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out.replace(/\s+/g, ' ').trim();
  }
}
