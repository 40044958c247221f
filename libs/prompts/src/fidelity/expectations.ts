/**
 * Test support: what a truthful prompt must state, computed from the chart itself (never by calling the
 * summariser): active problems, active medications with dose, allergies with criticality, the latest value of
 * every panel lab the hook needs, deceased status and the age band.
 */
import { LAB_PANELS, type PanelId } from '../summary/lab-panels';

type Json = Record<string, unknown>;

export interface ExpectedFact {
  readonly kind: 'problem' | 'medication' | 'allergy' | 'lab' | 'patient';
  readonly label: string;
  /** The handle prefix of the section the fact belongs in. */
  readonly prefix: 'P' | 'M' | 'A' | 'L' | 'header';
  /** Resources that state the fact (any one of them, shown or counted as left out for length, accounts for it). */
  readonly refs: ReadonlyArray<string>;
  /** Whether a line (or the header) states the fact correctly. */
  readonly states: (line: string) => boolean;
}

export interface Expectation {
  readonly facts: ExpectedFact[];
  /** Resources the prompt must not show (entered in error, refuted). */
  readonly excluded: ReadonlyArray<string>;
}

const ref = (r: Json) => `${String(r.resourceType)}/${String(r.id)}`;
const status = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v
    : (((v as Json | undefined)?.coding as Json[] | undefined)?.[0]?.code as string | undefined);
const codings = (v: unknown): Json[] => ((v as Json | undefined)?.coding as Json[] | undefined) ?? [];
const display = (v: unknown): string | undefined =>
  (codings(v)[0]?.display as string | undefined) ?? ((v as Json | undefined)?.text as string | undefined);
const NOT_TRUE = ['refuted', 'entered-in-error'];
const time = (r: Json) =>
  Date.parse(String(r.effectiveDateTime ?? (r.effectivePeriod as Json | undefined)?.start ?? r.issued ?? ''));

/** The first number after "<name>: " on a line. */
function valueAfter(line: string, name: string): number | undefined {
  const at = line.indexOf(`${name}: `);
  if (at < 0) return undefined;
  const m = /-?\d+(?:\.\d+)?/.exec(line.slice(at + name.length + 2));
  return m ? Number(m[0]) : undefined;
}

function close(shown: number, expected: number): boolean {
  return Math.abs(shown - expected) <= (Math.abs(expected) < 10 ? 0.0051 : 0.051) + Math.abs(expected) * 1e-9;
}

function ageYears(birth: string, at: Date): number {
  const [y, m, d] = birth.split('-').map(Number) as [number, number, number];
  let age = at.getUTCFullYear() - y;
  if (at.getUTCMonth() + 1 < m || (at.getUTCMonth() + 1 === m && at.getUTCDate() < d)) age -= 1;
  return age;
}

export function expectFromChart(
  resources: ReadonlyArray<Json>,
  opts: { now: Date; panels: ReadonlyArray<PanelId>; unknowable: ReadonlySet<'P' | 'M' | 'A' | 'L'> },
): Expectation {
  const facts: ExpectedFact[] = [];
  const excluded: string[] = [];
  const medsById = new Map(
    resources.filter((r) => r.resourceType === 'Medication').map((m) => [`Medication/${String(m.id)}`, m]),
  );
  for (const r of resources) {
    const verification = status(r.verificationStatus);
    if (verification && NOT_TRUE.includes(verification)) {
      excluded.push(ref(r));
      continue;
    }
    if (
      r.resourceType === 'Condition' &&
      ['active', 'recurrence', 'relapse', undefined].includes(status(r.clinicalStatus))
    ) {
      const name = codings(r.code)[0]?.display as string | undefined;
      facts.push({
        kind: 'problem',
        label: name ?? 'free-text problem',
        prefix: 'P',
        refs: [ref(r)],
        states: (l) => !name || l.includes(name),
      });
    }
    if (r.resourceType === 'MedicationRequest' || r.resourceType === 'MedicationStatement') {
      if (r.status === 'entered-in-error') excluded.push(ref(r));
      if (r.status !== 'active') continue;
      const med =
        r.medicationCodeableConcept ??
        medsById.get(String((r.medicationReference as Json | undefined)?.reference))?.code;
      const name = display(med);
      const dosage = ((r.dosageInstruction ?? r.dosage) as Json[] | undefined)?.[0];
      const dose = ((dosage?.doseAndRate as Json[] | undefined)?.[0]?.doseQuantity as Json | undefined) ?? undefined;
      const route = display(dosage?.route);
      const parts = [
        name,
        dose ? [String(dose.value), dose.unit].filter((x) => x !== undefined).join(' ') : undefined,
        route,
      ].filter((x): x is string => !!x);
      facts.push({
        kind: 'medication',
        label: parts.join(', '),
        prefix: 'M',
        refs: [ref(r)],
        states: (l) => parts.every((p) => l.includes(p)),
      });
    }
    if (r.resourceType === 'AllergyIntolerance' && (status(r.clinicalStatus) ?? 'active') === 'active') {
      const name = display(r.code);
      const crit = typeof r.criticality === 'string' ? `criticality ${r.criticality}` : undefined;
      const parts = [name, crit].filter((x): x is string => !!x);
      facts.push({
        kind: 'allergy',
        label: parts.join(', '),
        prefix: 'A',
        refs: [ref(r)],
        states: (l) => parts.every((p) => l.includes(p)),
      });
    }
  }
  for (const panel of opts.panels) {
    for (const loinc of LAB_PANELS[panel].loinc) {
      const series = resources
        .filter(
          (o) => o.resourceType === 'Observation' && !['entered-in-error', 'cancelled'].includes(String(o.status)),
        )
        .filter((o) => codings(o.code).some((c) => c.system === 'http://loinc.org' && c.code === loinc))
        .filter((o) => typeof (o.valueQuantity as Json | undefined)?.value === 'number')
        .sort((a, b) => time(b) - time(a));
      const latest = series[0];
      if (!latest) continue;
      const name = String(codings(latest.code)[0]?.display ?? '');
      const value = (latest.valueQuantity as Json).value as number;
      facts.push({
        kind: 'lab',
        label: `${name} ${value}`,
        prefix: 'L',
        refs: series.map(ref),
        states: (l) => {
          const shown = valueAfter(l, name);
          return shown !== undefined && close(shown, value);
        },
      });
    }
  }
  const patient = resources.find((r) => r.resourceType === 'Patient');
  if (patient) {
    const deceased = patient.deceasedBoolean === true || typeof patient.deceasedDateTime === 'string';
    const at = typeof patient.deceasedDateTime === 'string' ? new Date(patient.deceasedDateTime) : opts.now;
    const years = typeof patient.birthDate === 'string' ? ageYears(patient.birthDate, at) : undefined;
    const band = years === undefined ? undefined : years >= 90 ? '90 or older' : years < 2 ? 'month' : `${years} years`;
    facts.push({
      kind: 'patient',
      label: `${deceased ? 'deceased, ' : ''}${band ?? 'age unknown'}`,
      prefix: 'header',
      refs: [],
      states: (header) =>
        header.includes('deceased') === deceased &&
        (band === undefined || header.includes(band)) &&
        !/\b9\d years|1\d\d years/.test(header),
    });
  }
  return { facts: facts.filter((f) => f.prefix === 'header' || !opts.unknowable.has(f.prefix)), excluded };
}
