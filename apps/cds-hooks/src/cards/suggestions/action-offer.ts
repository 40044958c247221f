import type { ActionOffer } from '@app/prompts';
import type { SuggestionPolicy } from './suggestion-policy';

type Json = Record<string, unknown>;

/** What a suggestion may refer to: the patient in context and the draft orders the request carried. */
export interface SuggestionContext {
  readonly patientId: string;
  /** The resources of the request's `draftOrders` (empty for hooks without them). */
  readonly drafts: ReadonlyArray<Json>;
}

const refOf = (v: unknown): string | undefined =>
  typeof v === 'object' && v !== null && typeof (v as Json)['reference'] === 'string'
    ? ((v as Json)['reference'] as string)
    : undefined;

/** The patient a draft order is for (`subject` for most requests, `patient` for NutritionOrder and kin). */
function patientOf(resource: Json): string | undefined {
  return refOf(resource['subject']) ?? refOf(resource['patient']);
}

/**
 * Draft orders a suggestion may delete, by `Type/id`: in this request, status `draft`, and for the patient in
 * context (an order for anyone else is never offered, even if an EHR sent one).
 */
export function removableDrafts(ctx: SuggestionContext): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const r of ctx.drafts) {
    const type = r['resourceType'];
    const id = r['id'];
    if (typeof type !== 'string' || typeof id !== 'string' || !/^[A-Za-z]+$/.test(type)) continue;
    if (r['status'] !== 'draft' || patientOf(r) !== `Patient/${ctx.patientId}`) continue;
    out.set(`${type}/${id}`, r);
  }
  return out;
}

/** What the service offers the model for this call under its policy; undefined when suggestions are off. */
export function actionOffer(policy: SuggestionPolicy | undefined, ctx: SuggestionContext): ActionOffer | undefined {
  if (!policy?.enabled || policy.kinds.length === 0) return undefined;
  return {
    kinds: [...policy.kinds],
    draftRefs: [...removableDrafts(ctx).keys()],
    medications: policy.medications,
    tests: policy.tests,
  };
}

/** A draft order's name as the EHR gave it (for the suggestion's label), or its type. */
export function draftName(resource: Json | undefined, ref: string): string {
  const concept = (resource?.['medicationCodeableConcept'] ?? resource?.['code']) as Json | undefined;
  const text = concept?.['text'];
  const coding = Array.isArray(concept?.['coding']) ? (concept['coding'] as Json[]) : [];
  const display = coding.find((c) => typeof c['display'] === 'string')?.['display'];
  if (typeof text === 'string' && text.trim()) return text;
  if (typeof display === 'string' && display.trim()) return display;
  return `the draft ${ref.split('/')[0]}`;
}
