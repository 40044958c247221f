import type { SectionId } from './clinical-summary';
import { isRecord, timeOf, type Json } from './fhir-values';
import { observationSection, type Received } from './sources';
import { newestFirst, type LeaveOut } from './summary-drafts';

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

/** Resource types read for context only (they are what other lines point at), never lines themselves. */
const CONTEXT_TYPES = new Set(['Patient', 'Medication']);

/** The clinically relevant time of a resource, whichever of its time fields it has. */
export function timeOfResource(r: Json): number | undefined {
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
 * Sorts every received resource into its section and returns each section's resources newest first, capped
 * before any line is built. Types no section uses are left out as `unsupported-type`, those over the cap as `over-cap`.
 */
export function sectionBuckets(
  received: ReadonlyArray<Received>,
  leave: LeaveOut,
): (section: Exclude<SectionId, 'orders'>) => Received[] {
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
  return (section) => {
    const list = newestFirst((bySection.get(section) ?? []).map((x) => ({ x, time: timeOfResource(x.resource) })));
    list.slice(RESOURCE_CAP[section]).forEach(({ x }) => leave(x.ref, section, 'over-cap'));
    return list.slice(0, RESOURCE_CAP[section]).map(({ x }) => x);
  };
}
