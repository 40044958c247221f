import type { LeftOutReason } from './clinical-summary';
import { ago, asArray, concept, isRecord, statusCode, str, timeOf, type Concept, type Json } from './fhir-values';

const DAY_MS = 86_400_000;
/** A resolved problem is "recent history" when it ended (or was recorded) within this window. */
const RECENT_HISTORY_MS = 365 * DAY_MS;

export type Placed =
  | { section: 'problems' | 'history' | 'allergies'; text: string; time?: number }
  | { section: null; reason: LeftOutReason };

const ACTIVE = new Set(['active', 'recurrence', 'relapse']);
const NOT_TRUE = new Set(['entered-in-error', 'refuted']);

/**
 * A Condition as an active problem; as recent history when resolved, inactive or in remission within the last
 * year (a fracture this year still matters to a prescription); otherwise left out, with why. Entered-in-error
 * and refuted conditions are never shown. A Condition with no clinical status counts as active (an EHR that
 * answered an active-problems query with it).
 */
export function placeCondition(r: Json, now: Date, coded: (c: Concept) => string): Placed {
  const verification = statusCode(r.verificationStatus);
  if (verification && NOT_TRUE.has(verification))
    return { section: null, reason: verification === 'refuted' ? 'refuted' : 'entered-in-error' };
  const c = concept(r.code);
  if (!c) return { section: null, reason: 'no-code' };
  const clinical = statusCode(r.clinicalStatus) ?? 'active';
  const onset =
    timeOf(r.onsetDateTime) ??
    timeOf(isRecord(r.onsetPeriod) ? r.onsetPeriod.start : undefined) ??
    timeOf(r.recordedDate);
  const unconfirmed =
    verification === 'provisional' || verification === 'differential' || verification === 'unconfirmed';
  const tag = unconfirmed ? ` (${verification})` : '';
  if (ACTIVE.has(clinical))
    return {
      section: 'problems',
      text: `${coded(c)}${tag}, since ${ago(onset, now)}`,
      ...(onset !== undefined ? { time: onset } : {}),
    };
  const ended =
    timeOf(r.abatementDateTime) ??
    timeOf(isRecord(r.abatementPeriod) ? r.abatementPeriod.end : undefined) ??
    timeOf(r.recordedDate) ??
    onset;
  if (ended !== undefined && now.getTime() - ended <= RECENT_HISTORY_MS && now.getTime() >= ended)
    return { section: 'history', text: `${coded(c)}${tag}, ${clinical} ${ago(ended, now)}`, time: ended };
  return { section: null, reason: 'resolved' };
}

/** An AllergyIntolerance with its criticality and reactions, or why it is left out. */
export function placeAllergy(r: Json, coded: (c: Concept, withCode?: boolean) => string): Placed {
  const verification = statusCode(r.verificationStatus);
  if (verification && NOT_TRUE.has(verification))
    return { section: null, reason: verification === 'refuted' ? 'refuted' : 'entered-in-error' };
  const clinical = statusCode(r.clinicalStatus) ?? 'active';
  if (clinical !== 'active') return { section: null, reason: 'resolved' };
  const c = concept(r.code);
  if (!c) return { section: null, reason: 'no-code' };
  const reactions = asArray(r.reaction)
    .filter(isRecord)
    .flatMap((x) => asArray(x.manifestation).map((m) => concept(m)))
    .filter((m): m is Concept => m !== null)
    .map((m) => coded(m, false));
  const criticality = str(r.criticality);
  const type = str(r.type);
  return {
    section: 'allergies',
    text: `${coded(c)}${type === 'intolerance' ? ' (intolerance)' : ''}${verification === 'unconfirmed' ? ' (unconfirmed)' : ''}${criticality ? `, criticality ${criticality}` : ', criticality not recorded'}${reactions.length ? `, reactions: ${reactions.join(', ')}` : ''}`,
  };
}
