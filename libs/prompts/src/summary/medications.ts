import { asArray, concept, isActive, isRecord, str, timeOf, type Concept, type Json } from './fhir-values';

export interface MedicationFact {
  readonly concept: Concept;
  readonly dose?: string;
  readonly ref?: string;
  readonly time?: number;
}

/** What a MedicationRequest / MedicationStatement is for: its own concept or the referenced Medication's code. */
function medicationConcept(r: Json, medications: ReadonlyMap<string, Json>): Concept | null {
  const direct = concept(r.medicationCodeableConcept);
  if (direct) return direct;
  const ref = isRecord(r.medicationReference) ? str(r.medicationReference.reference) : undefined;
  const med = ref ? (medications.get(ref) ?? medications.get(ref.replace(/^#/, ''))) : undefined;
  return med ? concept(med.code) : null;
}

/** Active MedicationRequests and MedicationStatements, with Medication references resolved and RxNorm codes kept. */
export function medicationFacts(resources: ReadonlyArray<Json>): MedicationFact[] {
  const medications = new Map<string, Json>();
  for (const r of resources) {
    if (r.resourceType === 'Medication' && typeof r.id === 'string') {
      medications.set(`Medication/${r.id}`, r);
      medications.set(r.id, r);
    }
  }
  const facts: MedicationFact[] = [];
  for (const r of resources) {
    if ((r.resourceType !== 'MedicationRequest' && r.resourceType !== 'MedicationStatement') || !isActive(r.status))
      continue;
    const c = medicationConcept(r, medications);
    if (!c) continue;
    const dosage = asArray(r.dosageInstruction ?? r.dosage).find(isRecord);
    const dose = dosage ? str(dosage.text) : undefined;
    const id = str(r.id);
    const time = timeOf(r.authoredOn) ?? timeOf(r.dateAsserted);
    facts.push({
      concept: c,
      ...(dose ? { dose } : {}),
      ...(id ? { ref: `${String(r.resourceType)}/${id}` } : {}),
      ...(time !== undefined ? { time } : {}),
    });
  }
  return facts;
}
