import { ago, asArray, concept, type Concept, type Json } from './fhir-values';
import { timeOfResource } from './section-buckets';
import type { Received } from './sources';
import type { Draft, LeaveOut, SummaryText } from './summary-drafts';

export type EventSection = 'encounters' | 'procedures' | 'immunizations';

/** What an event is, per section. */
const WHAT: Readonly<Record<EventSection, (r: Json) => Concept | null>> = {
  encounters: (r) => concept(asArray(r.type)[0]),
  procedures: (r) => concept(r.code),
  immunizations: (r) => concept(r.vaccineCode),
};

/** Past events (encounters, procedures, immunizations): what, why (encounters), how long ago. */
export function eventLines(
  section: EventSection,
  resources: ReadonlyArray<Received>,
  now: Date,
  text: SummaryText,
  leave: LeaveOut,
): Draft[] {
  const drafts: Draft[] = [];
  for (const x of resources) {
    const r = x.resource;
    const status = typeof r.status === 'string' ? r.status : undefined;
    if (status === 'entered-in-error' || status === 'not-done' || status === 'cancelled') {
      leave(x.ref, section, status === 'entered-in-error' ? 'entered-in-error' : 'inactive');
      continue;
    }
    const c = WHAT[section](r);
    if (!c) {
      leave(x.ref, section, 'no-code');
      continue;
    }
    const t = timeOfResource(r);
    const reason = section === 'encounters' ? concept(asArray(r.reasonCode)[0]) : null;
    const line = `${text.coded(c, section === 'procedures')}${reason ? ` for ${text.coded(reason, false)}` : ''}, ${ago(t, now)}`;
    drafts.push({ text: line, ref: x.ref, ...(t !== undefined ? { time: t } : {}) });
  }
  return drafts;
}
