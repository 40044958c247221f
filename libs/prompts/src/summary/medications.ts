import type { LeftOutReason } from './clinical-summary';
import { dosageText } from './dosage';
import { concept, isRecord, statusCode, str, timeOf, type Concept, type Json } from './fhir-values';

export interface MedicationFact {
  readonly concept: Concept;
  readonly dose?: string;
  readonly status: string;
  readonly ref: string;
  readonly time?: number;
}

/** Statuses that mean the patient is (or may be) taking it now. */
const CURRENT = new Set(['active', 'on-hold', 'intended']);

/** Medication resources by every way a request may reference them. */
export function medicationIndex(resources: ReadonlyArray<Json>): Map<string, Json> {
  const medications = new Map<string, Json>();
  for (const r of resources) {
    if (r.resourceType === 'Medication' && typeof r.id === 'string') {
      medications.set(`Medication/${r.id}`, r);
      medications.set(r.id, r);
    }
  }
  return medications;
}

/** What a MedicationRequest / MedicationStatement is for: its own concept or the referenced Medication's code. */
export function medicationConcept(r: Json, medications: ReadonlyMap<string, Json>): Concept | null {
  const direct = concept(r.medicationCodeableConcept);
  if (direct) return direct;
  const ref = isRecord(r.medicationReference) ? str(r.medicationReference.reference) : undefined;
  const byRef = ref ? (medications.get(ref) ?? medications.get(ref.replace(/^#/, ''))) : undefined;
  const fromRef = byRef ? concept(byRef.code) : null;
  if (fromRef) return fromRef;
  return isRecord(r.medicationReference) && str(r.medicationReference.display)
    ? { text: String(r.medicationReference.display), terminology: false }
    : null;
}

export type MedicationOutcome = { ok: true; fact: MedicationFact } | { ok: false; reason: LeftOutReason };

/**
 * One MedicationRequest or MedicationStatement: current (active, on hold, intended) with its dosage, or why
 * not. A request without status counts as current (the EHR answered an active-medications query with it).
 */
export function medicationFact(
  r: Json,
  ref: string,
  medications: ReadonlyMap<string, Json>,
  coded: (c: Concept) => string,
  free: (t: string) => string,
): MedicationOutcome {
  const status = statusCode(r.status) ?? 'active';
  if (status === 'entered-in-error') return { ok: false, reason: 'entered-in-error' };
  if (!CURRENT.has(status)) return { ok: false, reason: 'inactive' };
  const c = medicationConcept(r, medications);
  if (!c) return { ok: false, reason: 'no-code' };
  const dose = dosageText(r, coded, free);
  const time = timeOf(r.authoredOn) ?? timeOf(r.dateAsserted);
  return {
    ok: true,
    fact: { concept: c, status, ref, ...(dose ? { dose } : {}), ...(time !== undefined ? { time } : {}) },
  };
}
