import { patientIdentifiers } from '../deid/patient-identifiers';
import { recordNames } from '../deid/record-names';
import { Redactor } from '../deid/redact';
import { allControlStrings } from '../profiles/model-profiles';
import { ageFacts } from './age';
import {
  SECTIONS,
  type ClinicalSummary,
  type Fact,
  type LeftOut,
  type LeftOutReason,
  type SectionId,
} from './clinical-summary';
import { placeAllergy, placeCondition } from './conditions';
import { dosageText } from './dosage';
import { ago, asArray, concept, isRecord, timeOf, type Concept, type Json } from './fhir-values';
import { medicationConcept, medicationFact, medicationIndex } from './medications';
import { observationFacts } from './observations';
import { observationSection, receivedResources, sectionStates, type PrefetchSource, type Received } from './sources';

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
const PROFILE_CONTROL_STRINGS = allControlStrings().filter((s) => /[<>|[\]#]/.test(s));

/**
 * Caps per section, applied before any line is built (newest kept): bounded work whatever the EHR sends
 * (a 9,000-Condition prefetch is summarised in milliseconds), and more lines than any model context holds.
 * What is cut is counted in the prompt and listed in the manifest as `over-cap`.
 */
const RESOURCE_CAP: Readonly<Record<Exclude<SectionId, 'orders'>, number>> = {
  problems: 400,
  history: 400,
  medications: 300,
  allergies: 200,
  labs: 3000,
  vitals: 600,
  encounters: 200,
  procedures: 300,
  immunizations: 300,
};
const LINE_CAP: Readonly<Record<SectionId, number>> = {
  orders: 20,
  problems: 60,
  history: 10,
  medications: 60,
  allergies: 40,
  labs: 80,
  vitals: 12,
  encounters: 5,
  procedures: 10,
  immunizations: 12,
};
/** Resource types read for context only (they are what other lines point at), never lines themselves. */
const CONTEXT_TYPES = new Set(['Patient', 'Medication']);

/** A code is kept only when it looks like one (RxNorm, SNOMED, LOINC, ICD): it must not smuggle free text. */
const CODE = /^[A-Za-z0-9.-]{1,20}$/;

type Draft = { text: string; ref?: string; time?: number; panel?: string };

function timeOfResource(r: Json): number | undefined {
  for (const v of [
    r.effectiveDateTime,
    isRecord(r.effectivePeriod) ? r.effectivePeriod.start : undefined,
    r.issued,
    r.onsetDateTime,
    r.recordedDate,
    r.authoredOn,
    r.dateAsserted,
    isRecord(r.period) ? r.period.start : undefined,
    r.performedDateTime,
    isRecord(r.performedPeriod) ? r.performedPeriod.start : undefined,
    r.occurrenceDateTime,
  ]) {
    const t = timeOf(v);
    if (t !== undefined) return t;
  }
  return undefined;
}

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

function newestFirst<T extends { time?: number }>(list: T[]): T[] {
  return [...list].sort((a, b) => (b.time ?? 0) - (a.time ?? 0));
}

/** Which section a received resource feeds, or null when the service has no use for its type. */
function sectionOf(x: Received): Exclude<SectionId, 'orders' | 'history'> | null {
  switch (x.resource.resourceType) {
    case 'Condition':
      return 'problems';
    case 'MedicationRequest':
    case 'MedicationStatement':
      return 'medications';
    case 'AllergyIntolerance':
      return 'allergies';
    case 'Observation':
      return observationSection(x.resource, x.answered);
    case 'Encounter':
      return 'encounters';
    case 'Procedure':
      return 'procedures';
    case 'Immunization':
      return 'immunizations';
    default:
      return null;
  }
}

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
  const named = (c: Concept) => coded(c, false);
  const medications = medicationIndex([...resources, ...hookResources]);

  const leftOut: LeftOut[] = [];
  const overCap: Partial<Record<SectionId, number>> = {};
  const leave = (ref: string | undefined, section: SectionId | null, reason: LeftOutReason) => {
    if (ref) leftOut.push({ ref, section, reason });
    if (reason === 'over-cap' && section) overCap[section] = (overCap[section] ?? 0) + 1;
  };

  // Sort every resource into its section, newest first, and cap each section before any line is built.
  const bySection = new Map<SectionId, Received[]>();
  for (const x of received) {
    if (CONTEXT_TYPES.has(String(x.resource.resourceType))) continue;
    const section = sectionOf(x);
    if (!section) {
      leave(x.ref, null, 'unsupported-type');
      continue;
    }
    const list = bySection.get(section);
    if (list) list.push(x);
    else bySection.set(section, [x]);
  }
  const capped = (section: Exclude<SectionId, 'orders'>): Received[] => {
    const list = newestFirst((bySection.get(section) ?? []).map((x) => ({ x, time: timeOfResource(x.resource) })));
    list.slice(RESOURCE_CAP[section]).forEach(({ x }) => leave(x.ref, section, 'over-cap'));
    return list.slice(0, RESOURCE_CAP[section]).map(({ x }) => x);
  };

  const drafts = Object.fromEntries(Object.keys(SECTIONS).map((s) => [s, [] as Draft[]])) as Record<SectionId, Draft[]>;
  drafts.orders = hookResources.flatMap((r) => {
    const c = orderConcept(r, medications);
    if (!c) return [];
    const dose = r.resourceType === 'MedicationRequest' ? dosageText(r, named, free) : undefined;
    const ref =
      typeof r.resourceType === 'string' && typeof r.id === 'string' ? `${r.resourceType}/${r.id}` : undefined;
    return [{ text: `${String(r.resourceType)}: ${coded(c)}${dose ? `, ${dose}` : ''}`, ...(ref ? { ref } : {}) }];
  });
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
    const m = medicationFact(x.resource, x.ref, medications, named, free);
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
  const events: Array<['encounters' | 'procedures' | 'immunizations', (r: Json) => Concept | null]> = [
    ['encounters', (r) => concept(asArray(r.type)[0])],
    ['procedures', (r) => concept(r.code)],
    ['immunizations', (r) => concept(r.vaccineCode)],
  ];
  for (const [section, what] of events) {
    for (const x of capped(section)) {
      const r = x.resource;
      const status = typeof r.status === 'string' ? r.status : undefined;
      if (status === 'entered-in-error' || status === 'not-done' || status === 'cancelled') {
        leave(x.ref, section, status === 'entered-in-error' ? 'entered-in-error' : 'inactive');
        continue;
      }
      const c = what(r);
      if (!c) {
        leave(x.ref, section, 'no-code');
        continue;
      }
      const t = timeOfResource(r);
      const reason = section === 'encounters' ? concept(asArray(r.reasonCode)[0]) : null;
      const text = `${coded(c, section === 'procedures')}${reason ? ` for ${coded(reason, false)}` : ''}, ${ago(t, now)}`;
      drafts[section].push({ text, ref: x.ref, ...(t !== undefined ? { time: t } : {}) });
    }
  }

  const sections = {} as Record<SectionId, Fact[]>;
  for (const id of Object.keys(SECTIONS) as SectionId[]) {
    const unique = new Map<string, Draft>();
    const ordered = id === 'orders' || id === 'allergies' ? drafts[id] : newestFirst(drafts[id]);
    for (const d of ordered) {
      const line = d.text.slice(0, 240);
      if (unique.has(line))
        leave(
          d.ref,
          id,
          id === 'encounters' || id === 'procedures' || id === 'immunizations' ? 'older-event' : 'duplicate',
        );
      else unique.set(line, { ...d, text: line });
    }
    const lines = [...unique.values()];
    const cap =
      id === 'labs'
        ? panelsFirstCap(lines, LINE_CAP.labs)
        : { kept: lines.slice(0, LINE_CAP[id]), cut: lines.slice(LINE_CAP[id]) };
    const eventSection = id === 'encounters' || id === 'procedures' || id === 'immunizations';
    cap.cut.forEach((d) => leave(d.ref, id, eventSection ? 'older-event' : 'over-cap'));
    sections[id] = cap.kept.map((d, i) => ({ ...d, handle: `${SECTIONS[id]}${i + 1}` }));
  }
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

/** Lab lines over the cap: panel results are kept before other results, newest first within each. */
function panelsFirstCap(lines: Draft[], cap: number): { kept: Draft[]; cut: Draft[] } {
  const ranked = [...lines.filter((d) => d.panel), ...lines.filter((d) => !d.panel)];
  const kept = new Set(ranked.slice(0, cap));
  return { kept: lines.filter((d) => kept.has(d)), cut: lines.filter((d) => !kept.has(d)) };
}
