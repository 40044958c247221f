import type { SectionId, SectionState } from './clinical-summary';
import { asArray, codesOf, isRecord, resourcesOf, type Json } from './fhir-values';
import { VITAL_LOINC } from './lab-panels';

/** What the service asked for and what it could not get (from the prefetch resolver). */
export interface PrefetchSource {
  /** The service's prefetch templates, by key. Without them, a key answers the types it holds. */
  readonly templates?: Readonly<Record<string, string>>;
  /** Keys that were asked for but could not be had (missing and not fetched, or failed). */
  readonly unavailable?: ReadonlyArray<string>;
}

type ObsCategory = 'laboratory' | 'vital-signs' | 'other' | undefined;

/** What one prefetch key's query asks for: the resource type and, for Observations, the category. */
interface KeyQuery {
  readonly type: string;
  readonly category: ObsCategory;
}

const SECTION_TYPES: Readonly<Record<Exclude<SectionId, 'orders'>, ReadonlyArray<string>>> = {
  problems: ['Condition'],
  history: ['Condition'],
  medications: ['MedicationRequest', 'MedicationStatement'],
  allergies: ['AllergyIntolerance'],
  labs: ['Observation'],
  vitals: ['Observation'],
  encounters: ['Encounter'],
  procedures: ['Procedure'],
  immunizations: ['Immunization'],
};

function categoryWord(v: string | undefined): ObsCategory {
  if (v === undefined) return undefined;
  const codes = v.split(',').map((c) => c.split('|').pop() ?? '');
  if (codes.includes('laboratory') && codes.includes('vital-signs')) return undefined;
  if (codes.includes('laboratory')) return 'laboratory';
  if (codes.includes('vital-signs')) return 'vital-signs';
  return 'other';
}

/** `Observation?category=laboratory&...`, `Observation/$lastn?...`, `Patient/{{id}}`. */
export function queryOf(template: string): KeyQuery | null {
  const [path = '', query = ''] = template.split('?');
  const type = path.replace(/^\/+/, '').split('/')[0] ?? '';
  if (!/^[A-Z][A-Za-z]+$/.test(type)) return null;
  const params = new URLSearchParams(query);
  return { type, category: type === 'Observation' ? categoryWord(params.get('category') ?? undefined) : undefined };
}

function ownCategory(obs: Json): ObsCategory {
  const codes = asArray(obs.category).flatMap(codesOf);
  if (codes.includes('laboratory')) return 'laboratory';
  if (codes.includes('vital-signs')) return 'vital-signs';
  return codes.length > 0 ? 'other' : undefined;
}

/**
 * Which section an Observation belongs to: its own category when it has one; else the category of the query it
 * answered (an Observation returned for `category=laboratory` is a lab, whatever the EHR left out of it); else
 * its code (vital-sign LOINC codes are vitals, any other result with a value is a lab).
 */
export function observationSection(obs: Json, answered: ObsCategory): 'labs' | 'vitals' | null {
  const own = ownCategory(obs);
  const c = own ?? answered;
  if (c === 'laboratory') return 'labs';
  if (c === 'vital-signs') return 'vitals';
  if (c === 'other') return null;
  return codesOf(obs.code).some((x) => VITAL_LOINC.has(x)) ? 'vitals' : 'labs';
}

export interface Received {
  readonly resource: Json;
  readonly ref: string;
  /** The Observation category of the query this came from, if any. */
  readonly answered: ObsCategory;
}

function refOf(r: Json, key: string, index: number): string {
  return typeof r.resourceType === 'string' && typeof r.id === 'string'
    ? `${r.resourceType}/${r.id}`
    : `${typeof r.resourceType === 'string' ? r.resourceType : 'Resource'}#${key}.${index}`;
}

/** Every resource the prefetch holds, once each, with the query it answered. */
export function receivedResources(prefetch: Readonly<Record<string, unknown>>, source: PrefetchSource): Received[] {
  const seen = new Set<string>();
  const out: Received[] = [];
  for (const [key, value] of Object.entries(prefetch)) {
    const template = source.templates?.[key];
    const q = template ? queryOf(template) : null;
    resourcesOf(value).forEach((resource, i) => {
      const ref = refOf(resource, key, i);
      if (seen.has(ref)) return;
      seen.add(ref);
      out.push({ resource, ref, answered: q?.type === 'Observation' ? q.category : undefined });
    });
  }
  return out;
}

function feeds(section: Exclude<SectionId, 'orders'>, q: KeyQuery): boolean {
  if (!SECTION_TYPES[section].includes(q.type)) return false;
  if (q.type !== 'Observation' || q.category === undefined) return true;
  return (section === 'labs' && q.category === 'laboratory') || (section === 'vitals' && q.category === 'vital-signs');
}

/** A key's value is an error answer (OperationOutcome), not data. */
function isFailure(v: unknown): boolean {
  return isRecord(v) && v.resourceType === 'OperationOutcome';
}

/**
 * What is known per section: answered (possibly empty), not requested by this service, or requested and not
 * available. Without templates a key is taken to answer the resource types (and categories) it holds.
 */
export function sectionStates(
  prefetch: Readonly<Record<string, unknown>>,
  source: PrefetchSource,
): Record<Exclude<SectionId, 'orders'>, SectionState> {
  const unavailable = new Set(source.unavailable ?? []);
  const keyQueries: Array<{ key: string; q: KeyQuery; ok: boolean }> = [];
  if (source.templates) {
    for (const [key, template] of Object.entries(source.templates)) {
      const q = queryOf(template);
      if (!q) continue;
      const ok = !unavailable.has(key) && key in prefetch && !isFailure(prefetch[key]);
      keyQueries.push({ key, q, ok });
    }
  } else {
    for (const [key, value] of Object.entries(prefetch)) {
      for (const r of resourcesOf(value)) {
        const type = String(r.resourceType);
        const category = type === 'Observation' ? (ownCategory(r) ?? 'laboratory') : undefined;
        keyQueries.push({ key, q: { type, category }, ok: true });
      }
    }
  }
  const states = {} as Record<Exclude<SectionId, 'orders'>, SectionState>;
  for (const section of Object.keys(SECTION_TYPES) as Array<Exclude<SectionId, 'orders'>>) {
    const feeding = keyQueries.filter((k) => feeds(section, k.q));
    const answered = feeding.filter((k) => k.ok).length;
    states[section] =
      feeding.length === 0
        ? 'not-requested'
        : answered === 0
          ? 'unavailable'
          : answered < feeding.length
            ? 'partial'
            : 'answered';
  }
  return states;
}
