import type { AgeFacts } from './clinical-summary';
import type { Json } from './fhir-values';

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/;

function parts(v: unknown): [number, number, number] | null {
  const m = typeof v === 'string' ? DATE.exec(v) : null;
  return m ? [Number(m[1]), Number(m[2] ?? 1), Number(m[3] ?? 1)] : null;
}

function monthsBetween(from: [number, number, number], to: [number, number, number]): number {
  let months = (to[0] - from[0]) * 12 + (to[1] - from[1]);
  if (to[2] < from[2]) months -= 1;
  return months;
}

/**
 * Age at `now`, or at death for a deceased patient (`deceasedDateTime`): years capped at 90 (Safe Harbor
 * aggregates ages over 89, shown as "90 or older"), and months for children under two.
 */
export function ageFacts(patient: Json | undefined, now: Date): AgeFacts {
  const deceased =
    patient?.deceasedBoolean === true ||
    (typeof patient?.deceasedDateTime === 'string' && patient.deceasedDateTime !== '');
  const birth = parts(patient?.birthDate);
  const death = parts(patient?.deceasedDateTime);
  const at: [number, number, number] | null = deceased
    ? death
    : [now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate()];
  if (!birth || !at) return { years: null, deceased };
  const months = monthsBetween(birth, at);
  if (months < 0) return { years: null, deceased };
  const years = Math.floor(months / 12);
  return { years: Math.min(years, 90), ...(years < 2 ? { months } : {}), deceased };
}

/** "67-year-old", "90 or older", "7-month-old"; for the deceased, "deceased, died at age ...". */
export function describeAge(age: AgeFacts): string {
  const value =
    age.years === null
      ? null
      : age.months !== undefined
        ? `${age.months} month${age.months === 1 ? '' : 's'}`
        : age.years >= 90
          ? '90 or older'
          : `${age.years} years`;
  if (age.deceased) return value ? `deceased; age at death ${value}` : 'deceased; age at death unknown';
  return value ? `age ${value}` : 'age unknown';
}
