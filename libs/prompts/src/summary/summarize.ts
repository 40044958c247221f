import { Redactor } from '../deid/redact';
import { patientIdentifiers } from '../deid/patient-identifiers';
import { SECTIONS, type ClinicalSummary, type Fact, type SectionId } from './clinical-summary';
import {
  ago,
  asArray,
  concept,
  isActive,
  isRecord,
  resourcesOf,
  str,
  timeOf,
  type Concept,
  type Json,
} from './fhir-values';
import { medicationFacts } from './medications';
import { isCategory, observationFacts } from './observations';

/** How many of the most recent events of each kind are worth a line. */
const RECENT_EVENTS = 5;

function ageInYears(birthDate: unknown, now: Date): number | null {
  if (typeof birthDate !== 'string' || !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(birthDate)) return null;
  const [y, m = 1, d = 1] = birthDate.split('-').map(Number) as [number, number?, number?];
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < m || (now.getUTCMonth() + 1 === m && now.getUTCDate() < d)) age -= 1;
  // Safe Harbor: ages over 89 are aggregated into one group.
  return age >= 0 ? Math.min(age, 90) : null;
}

/** A code is kept only when it looks like one (RxNorm, SNOMED, LOINC, ICD): it must not smuggle free text. */
const CODE = /^[A-Za-z0-9.-]{1,20}$/;

function refOf(r: Json): string | undefined {
  return typeof r.resourceType === 'string' && typeof r.id === 'string' ? `${r.resourceType}/${r.id}` : undefined;
}

type Draft = { text: string; ref?: string; time?: number };

function draft(text: string, r: Json, time?: number): Draft {
  const ref = refOf(r);
  return { text, ...(ref ? { ref } : {}), ...(time !== undefined ? { time } : {}) };
}

/** The coded concept that says what an order or appointment is, per resource type. */
function orderConcept(r: Json): Concept | null {
  switch (r.resourceType) {
    case 'MedicationRequest':
      return concept(r.medicationCodeableConcept);
    case 'NutritionOrder':
      return isRecord(r.oralDiet) ? concept(asArray(r.oralDiet.type)[0]) : null;
    case 'Appointment':
      return concept(asArray(r.serviceType)[0]) ?? concept(r.appointmentType) ?? concept(asArray(r.reasonCode)[0]);
    default:
      return concept(r.code);
  }
}

function newestFirst(list: Draft[]): Draft[] {
  return [...list].sort((a, b) => (b.time ?? 0) - (a.time ?? 0));
}

/**
 * Builds the de-identified summary from prefetch and the resources the hook carries (draft orders,
 * appointments). Only coded concepts, values, units, ages and relative times are kept; every text passes
 * the redaction pass, which also strips whatever identifies this patient elsewhere in the record.
 */
export function summarize(
  prefetch: Readonly<Record<string, unknown>>,
  now: Date = new Date(),
  hookResources: ReadonlyArray<Json> = [],
): ClinicalSummary {
  const seen = new Set<string>();
  const all = Object.values(prefetch)
    .flatMap(resourcesOf)
    .filter((r) => {
      const key = refOf(r);
      if (!key) return true;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  const patient = all.find((r) => r.resourceType === 'Patient');
  const redactor = new Redactor(patientIdentifiers(patient));
  // Free text is redacted where it enters; codes carry clinical meaning and are kept as they are.
  const coded = (c: Concept) => `${redactor.redact(c.text)}${c.code && CODE.test(c.code) ? ` [${c.code}]` : ''}`;
  const text = (t: string) => redactor.redact(t);
  const of = (type: string) => all.filter((r) => r.resourceType === type);

  const drafts: Record<SectionId, Draft[]> = {
    orders: hookResources.flatMap((r) => {
      const c = orderConcept(r);
      return c ? [draft(`${String(r.resourceType)}: ${coded(c)}`, r)] : [];
    }),
    problems: newestFirst(
      of('Condition')
        .filter((r) => isActive(r.clinicalStatus))
        .flatMap((r) => {
          const c = concept(r.code);
          const onset = timeOf(r.onsetDateTime) ?? timeOf(r.recordedDate);
          return c ? [draft(`${coded(c)}, since ${ago(onset, now)}`, r, onset)] : [];
        }),
    ),
    medications: newestFirst(
      medicationFacts(all).map((m) => ({
        text: `${coded(m.concept)}${m.dose ? `, ${text(m.dose)}` : ''}`,
        ...(m.ref ? { ref: m.ref } : {}),
        ...(m.time !== undefined ? { time: m.time } : {}),
      })),
    ),
    allergies: of('AllergyIntolerance')
      .filter((r) => isActive(r.clinicalStatus))
      .flatMap((r) => {
        const c = concept(r.code);
        if (!c) return [];
        const reactions = asArray(r.reaction)
          .filter(isRecord)
          .flatMap((x) => asArray(x.manifestation).map((m) => concept(m)?.text))
          .map((t) => (t ? text(t) : t))
          .filter((t): t is string => !!t);
        const criticality = str(r.criticality);
        return [
          draft(
            `${coded(c)}${criticality ? `, criticality ${criticality}` : ''}${reactions.length ? `, reactions: ${reactions.join(', ')}` : ''}`,
            r,
          ),
        ];
      }),
    labs: observationFacts(
      of('Observation').filter((o) => isCategory(o, 'laboratory')),
      now,
    ).map((f) => ({ ...f, text: text(f.text) })),
    vitals: observationFacts(
      of('Observation').filter((o) => isCategory(o, 'vital-signs')),
      now,
      2,
    ).map((f) => ({ ...f, text: text(f.text) })),
    encounters: newestFirst(
      of('Encounter').flatMap((r) => {
        const c = concept(asArray(r.type)[0]);
        const start = timeOf(isRecord(r.period) ? r.period.start : undefined);
        const reason = concept(asArray(r.reasonCode)[0]);
        return c
          ? [draft(`${text(c.text)}${reason ? ` for ${text(reason.text)}` : ''}, ${ago(start, now)}`, r, start)]
          : [];
      }),
    ).slice(0, RECENT_EVENTS),
    procedures: newestFirst(
      of('Procedure').flatMap((r) => {
        const c = concept(r.code);
        const t =
          timeOf(r.performedDateTime) ?? timeOf(isRecord(r.performedPeriod) ? r.performedPeriod.start : undefined);
        return c ? [draft(`${coded(c)}, ${ago(t, now)}`, r, t)] : [];
      }),
    ).slice(0, RECENT_EVENTS),
    immunizations: newestFirst(
      of('Immunization').flatMap((r) => {
        const c = concept(r.vaccineCode);
        const t = timeOf(r.occurrenceDateTime);
        return c ? [draft(`${text(c.text)}, ${ago(t, now)}`, r, t)] : [];
      }),
    ).slice(0, RECENT_EVENTS),
  };

  const sections = {} as Record<SectionId, Fact[]>;
  for (const id of Object.keys(SECTIONS) as SectionId[]) {
    const unique = new Map<string, Draft>();
    for (const d of drafts[id]) {
      const line = d.text.slice(0, 240);
      if (!unique.has(line)) unique.set(line, { ...d, text: line });
    }
    sections[id] = [...unique.values()].map((d, i) => ({ ...d, handle: `${SECTIONS[id]}${i + 1}` }));
  }
  const gender = patient?.gender;
  return {
    ageYears: ageInYears(patient?.birthDate, now),
    sex: gender === 'male' || gender === 'female' || gender === 'other' ? gender : 'unknown',
    sections,
  };
}
