import { asArray, isRecord, type Json } from '../summary/fhir-values';

/** Resource types whose names identify a person in the record (the patient, relatives, clinicians). */
const PERSON_TYPES = new Set(['Patient', 'RelatedPerson', 'Practitioner', 'Person']);
const HONORIFIC = /^(?:dr|mr|mrs|ms|miss|mx|prof|sr|jr)\.?$/i;
const PERSON_REFERENCE = /^(?:.*\/)?(Patient|RelatedPerson|Practitioner|PractitionerRole|Person)\//;

function nameParts(n: unknown, add: (v: unknown) => void): void {
  if (!isRecord(n)) return;
  asArray(n.given).forEach(add);
  add(n.family);
  add(n.text);
}

/**
 * Every person name the bundle holds: names of Patient, RelatedPerson, Practitioner and Person resources, and
 * the `display` of any reference to one (an encounter's practitioner is often only a reference display,
 * "Dr. Wilfredo622 Ortiz186"). Free text naming them is redacted wherever it appears.
 */
export function recordNames(resources: ReadonlyArray<Json>): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v !== 'string') return;
    const t = v.trim();
    // One- and two-letter parts ("J", "Al") would redact clinical abbreviations everywhere.
    if (t.length >= 3) out.add(t);
  };
  const visit = (v: unknown, depth: number): void => {
    if (depth > 6) return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
      return;
    }
    if (!isRecord(v)) return;
    if (typeof v.reference === 'string' && PERSON_REFERENCE.test(v.reference) && typeof v.display === 'string') {
      add(v.display);
      v.display
        .split(/\s+/)
        .filter((w) => /^\p{Lu}/u.test(w) && !HONORIFIC.test(w))
        .forEach(add);
    }
    for (const x of Object.values(v)) if (typeof x === 'object' && x !== null) visit(x, depth + 1);
  };
  for (const r of resources) {
    if (PERSON_TYPES.has(String(r.resourceType))) {
      asArray(r.name).forEach((n) => nameParts(n, add));
      if (isRecord(r.name)) nameParts(r.name, add);
    }
    visit(r, 0);
  }
  return [...out];
}
