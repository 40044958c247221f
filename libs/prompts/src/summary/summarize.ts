import { patientIdentifiers } from '../deid/patient-identifiers';
import { recordNames } from '../deid/record-names';
import { Redactor } from '../deid/redact';
import { allControlStrings } from '../profiles/model-profiles';
import { ageFacts } from './age';
import { SECTIONS, type ClinicalSummary, type LeftOut, type SectionId } from './clinical-summary';
import { placeAllergy, placeCondition } from './conditions';
import type { Concept, Json } from './fhir-values';
import { eventLines } from './event-lines';
import { medicationFact, medicationIndex } from './medications';
import { observationFacts } from './observations';
import { orderLines } from './order-lines';
import { sectionBuckets } from './section-buckets';
import { sectionFacts } from './section-facts';
import { receivedResources, sectionStates, type PrefetchSource } from './sources';
import type { Draft, LeaveOut, SummaryText } from './summary-drafts';

export type { PrefetchSource } from './sources';

export interface SummaryOptions {
  /** Control strings neutralised in data text on top of the built-in list; by default every profile's. */
  readonly controlStrings?: ReadonlyArray<string>;
}

/**
 * Every served template's control strings that carry markup. Bare words a template declares as stops
 * (`User:`, `Assistant:`) are only turns at the start of a line, which the neutraliser's turn rule defuses;
 * replacing them mid-line would mangle clinical text such as "Tobacco user: former".
 */
const PROFILE_CONTROL_STRINGS = Object.freeze(allControlStrings().filter((s) => /[<>|[\]#]/.test(s)));

/** A code is kept only when it looks like one (RxNorm, SNOMED, LOINC, ICD): it must not smuggle free text. */
const CODE = /^[A-Za-z0-9.-]{1,20}$/;

/**
 * Builds the de-identified summary from prefetch and the resources the hook carries (draft orders,
 * appointments). Only coded concepts, values, units, ages and relative times are kept; every text passes the
 * redaction pass. Each resource received ends up either as (part of) a line or in `leftOut` with the reason;
 * each section says whether the EHR answered it, was not asked, or could not be reached (`source`).
 */
export function summarize(
  prefetch: Readonly<Record<string, unknown>>,
  now: Date = new Date(),
  hookResources: ReadonlyArray<Json> = [],
  source: PrefetchSource = {},
  options: SummaryOptions = {},
): ClinicalSummary {
  const received = receivedResources(prefetch, source);
  const resources = received.map((x) => x.resource);
  const patient = resources.find((r) => r.resourceType === 'Patient');
  const redactor = new Redactor([...patientIdentifiers(patient), ...recordNames([...resources, ...hookResources])], {
    controlStrings: options.controlStrings ?? PROFILE_CONTROL_STRINGS,
  });
  // Free text is redacted where it enters; codes carry clinical meaning and are kept as they are.
  const coded = (c: Concept, withCode = true) =>
    `${c.terminology ? redactor.redactTerminology(c.text) : redactor.redact(c.text)}${withCode && c.code && CODE.test(c.code) ? ` [${c.code}]` : ''}`;
  const free = (t: string) => redactor.redact(t);
  // Dosage words (route, timing code) read as words: their codes would only cost tokens.
  const text: SummaryText = { coded, named: (c) => coded(c, false), free };
  const medications = medicationIndex([...resources, ...hookResources]);

  const leftOut: LeftOut[] = [];
  const overCap: Partial<Record<SectionId, number>> = {};
  const leave: LeaveOut = (ref, section, reason) => {
    if (ref) leftOut.push({ ref, section, reason });
    if (reason === 'over-cap' && section) overCap[section] = (overCap[section] ?? 0) + 1;
  };

  // Sort every resource into its section, newest first, and cap each section before any line is built.
  const capped = sectionBuckets(received, leave);

  const drafts = Object.fromEntries(Object.keys(SECTIONS).map((s) => [s, [] as Draft[]])) as Record<SectionId, Draft[]>;
  drafts.orders = orderLines(hookResources, medications, text);
  for (const x of capped('problems')) {
    const placed = placeCondition(x.resource, now, coded);
    if (placed.section === null) leave(x.ref, 'problems', placed.reason);
    else
      drafts[placed.section].push({
        text: placed.text,
        ref: x.ref,
        ...(placed.time !== undefined ? { time: placed.time } : {}),
      });
  }
  for (const x of capped('allergies')) {
    const placed = placeAllergy(x.resource, coded);
    if (placed.section === null) leave(x.ref, 'allergies', placed.reason);
    else drafts.allergies.push({ text: placed.text, ref: x.ref });
  }
  for (const x of capped('medications')) {
    const m = medicationFact(x.resource, x.ref, medications, text.named, free);
    if (!m.ok) leave(x.ref, 'medications', m.reason);
    else
      drafts.medications.push({
        text: `${coded(m.fact.concept)}${m.fact.dose ? `, ${m.fact.dose}` : ''}${m.fact.status === 'on-hold' ? ' (on hold)' : ''}`,
        ref: x.ref,
        ...(m.fact.time !== undefined ? { time: m.fact.time } : {}),
      });
  }
  for (const [section, perTest] of [
    ['labs', 3],
    ['vitals', 2],
  ] as const) {
    const usable = capped(section).filter((x) => {
      const status = x.resource.status;
      if (status === 'entered-in-error' || status === 'cancelled') {
        leave(x.ref, section, status === 'cancelled' ? 'inactive' : 'entered-in-error');
        return false;
      }
      return true;
    });
    const obs = observationFacts(
      usable.map((x) => ({ ref: x.ref, obs: x.resource })),
      now,
      perTest,
      { coded, free },
    );
    obs.leftOut.forEach((l) => leave(l.ref, section, l.reason));
    drafts[section] = obs.facts.map((f) => ({ ...f }));
  }
  for (const section of ['encounters', 'procedures', 'immunizations'] as const)
    drafts[section].push(...eventLines(section, capped(section), now, text, leave));

  const sections = sectionFacts(drafts, leave);
  const age = ageFacts(patient, now);
  const gender = patient?.gender;
  return {
    ageYears: age.years,
    age,
    sex: gender === 'male' || gender === 'female' || gender === 'other' ? gender : 'unknown',
    sections,
    states: { orders: 'answered', ...sectionStates(prefetch, source) },
    overCap,
    leftOut,
  };
}
