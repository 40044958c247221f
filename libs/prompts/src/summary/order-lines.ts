import { dosageText } from './dosage';
import { asArray, concept, isRecord, type Concept, type Json } from './fhir-values';
import { medicationConcept } from './medications';
import type { Draft, SummaryText } from './summary-drafts';

/** The coded concept that says what an order or appointment is, per resource type. */
function orderConcept(r: Json, medications: ReadonlyMap<string, Json>): Concept | null {
  switch (r.resourceType) {
    case 'MedicationRequest':
      return medicationConcept(r, medications);
    case 'NutritionOrder':
      return isRecord(r.oralDiet) ? concept(asArray(r.oralDiet.type)[0]) : null;
    case 'Appointment':
      return concept(asArray(r.serviceType)[0]) ?? concept(r.appointmentType) ?? concept(asArray(r.reasonCode)[0]);
    default:
      return concept(r.code);
  }
}

/** One line per order or appointment the hook carries (draft orders, the appointment being booked). */
export function orderLines(
  hookResources: ReadonlyArray<Json>,
  medications: ReadonlyMap<string, Json>,
  text: SummaryText,
): Draft[] {
  return hookResources.flatMap((r) => {
    const c = orderConcept(r, medications);
    if (!c) return [];
    const dose = r.resourceType === 'MedicationRequest' ? dosageText(r, text.named, text.free) : undefined;
    const ref =
      typeof r.resourceType === 'string' && typeof r.id === 'string' ? `${r.resourceType}/${r.id}` : undefined;
    return [{ text: `${String(r.resourceType)}: ${text.coded(c)}${dose ? `, ${dose}` : ''}`, ...(ref ? { ref } : {}) }];
  });
}
