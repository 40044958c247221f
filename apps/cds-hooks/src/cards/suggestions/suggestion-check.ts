import type { Suggestion } from '../card';
import { removableDrafts, type SuggestionContext } from './action-offer';
import { r4Problems } from './r4-validator';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The patient a created resource is for, if it names one. */
function patientRef(resource: fhir4.Resource): string | undefined {
  const r = resource as { subject?: { reference?: string }; patient?: { reference?: string } };
  return r.subject?.reference ?? r.patient?.reference;
}

/**
 * Everything a suggestion must be before it goes on a card (CDS Hooks 2.0.1 §Suggestion, §Action): a uuid and a
 * label; at least one action, each with a type and description; a `create` carries an R4-valid draft resource
 * for the patient in context and nothing else; a `delete` names, by `resourceId`, a draft order of this request
 * for this patient. Returns the problems (empty when it may be shown).
 */
export function suggestionProblems(s: Suggestion, ctx: SuggestionContext): string[] {
  const problems: string[] = [];
  if (!UUID.test(s.uuid)) problems.push('uuid missing');
  if (!s.label.trim()) problems.push('label empty');
  if (s.actions.length === 0) problems.push('no action');
  const drafts = removableDrafts(ctx);
  s.actions.forEach((a, i) => {
    const at = `actions[${i}]`;
    if (!a.description.trim()) problems.push(`${at}.description empty`);
    if (a.type === 'delete') {
      if ('resource' in a) problems.push(`${at}: delete carries a resource`);
      if (!drafts.has(a.resourceId)) problems.push(`${at}.resourceId is not a draft order of this request and patient`);
      return;
    }
    if (a.type !== 'create') return void problems.push(`${at}.type not offered`);
    const patient = patientRef(a.resource);
    if (patient !== `Patient/${ctx.patientId}`) problems.push(`${at}.resource is not for the patient in context`);
    if ((a.resource as { status?: string }).status !== 'draft') problems.push(`${at}.resource status is not draft`);
    if (a.resource.id !== undefined) problems.push(`${at}.resource carries an id`);
    problems.push(...r4Problems(a.resource).map((p) => `${at}.resource ${p}`));
  });
  return problems;
}
