import type { OfferedItem } from '@app/prompts';
import type { SuggestionPolicy } from './suggestion-policy';

/** SNOMED CT 108252007 "Laboratory procedure" (from R4's ServiceRequest category example value set). */
const LAB_CATEGORY = {
  coding: [{ system: 'http://snomed.info/sct', code: '108252007', display: 'Laboratory procedure' }],
};

const concept = (item: OfferedItem) => ({
  coding: [{ system: item.system, code: item.code, display: item.display }],
  text: item.display,
});

/**
 * The resources the service writes for a chosen action, from configured codes and the patient in context
 * only: status `draft` (the clinician completes and signs them in the EHR), no id (the EHR assigns one).
 */
export function replacementMedicationRequest(
  item: OfferedItem,
  patientId: string,
  intent: SuggestionPolicy['intent'],
): fhir4.MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    status: 'draft',
    intent,
    medicationCodeableConcept: concept(item),
    subject: { reference: `Patient/${patientId}` },
  };
}

export function labServiceRequest(
  item: OfferedItem,
  patientId: string,
  intent: SuggestionPolicy['intent'],
): fhir4.ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent,
    category: [LAB_CATEGORY],
    code: concept(item),
    subject: { reference: `Patient/${patientId}` },
  };
}
