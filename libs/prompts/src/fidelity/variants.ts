/**
 * Test support: the ways real EHR data differs from Synthea's, applied to a chart (resources) or to the
 * prefetch an EHR answered with. Each variant is what a real interface sends, not a random mutation.
 */
type Json = Record<string, unknown>;

export interface Variant {
  readonly name: string;
  /** Changes the chart (the EHR's record) before it answers. */
  readonly chart?: (resources: Json[]) => Json[];
  /** Changes what the EHR sent as prefetch. */
  readonly prefetch?: (prefetch: Record<string, unknown>) => Record<string, unknown>;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const isType = (t: string) => (r: Json) => r.resourceType === t;
const codeOf = (r: Json) => ((r.code as Json | undefined)?.coding as Json[] | undefined)?.[0]?.code;

function entriesOf(value: unknown): Json[] {
  const entry = (value as Json | undefined)?.entry;
  return Array.isArray(entry) ? (entry as Array<{ resource: Json }>).map((e) => e.resource) : [];
}

export const VARIANTS: ReadonlyArray<Variant> = [
  { name: 'as sent' },
  {
    // Older interfaces: Observations without category, answered to the category=laboratory query all the same.
    name: 'no category',
    prefetch: (p) => {
      const out = clone(p);
      for (const v of Object.values(out))
        for (const r of entriesOf(v)) if (r.resourceType === 'Observation') delete r.category;
      return out;
    },
  },
  {
    name: 'structured doses',
    chart: (rs) =>
      rs.map((r) =>
        r.resourceType === 'MedicationRequest'
          ? {
              ...r,
              dosageInstruction: [
                {
                  doseAndRate: [
                    { doseQuantity: { value: 2, unit: 'tablet', system: 'http://unitsofmeasure.org', code: '{tbl}' } },
                  ],
                  route: { coding: [{ system: 'http://snomed.info/sct', code: '26643006', display: 'Oral route' }] },
                  timing: { repeat: { frequency: 3, period: 1, periodUnit: 'd' } },
                  asNeededBoolean: false,
                },
              ],
            }
          : r,
      ),
  },
  {
    // The same test reported in another unit: hemoglobin g/dL -> g/L on its latest result.
    name: 'units',
    chart: (rs) => {
      const out = clone(rs);
      const hb = out
        .filter((r) => isType('Observation')(r) && codeOf(r) === '718-7')
        .sort((a, b) => String(b.effectiveDateTime).localeCompare(String(a.effectiveDateTime)))[0];
      const q = hb?.valueQuantity as Json | undefined;
      if (q && typeof q.value === 'number') Object.assign(q, { value: q.value * 10, unit: 'g/L', code: 'g/L' });
      return out;
    },
  },
  {
    // Duplicate same-day panels: every lab of the latest day sent twice, under new ids.
    name: 'duplicates',
    chart: (rs) => {
      const labs = rs.filter(isType('Observation'));
      const last = labs
        .map((o) => String(o.effectiveDateTime).slice(0, 10))
        .sort()
        .at(-1);
      const copies = labs
        .filter((o) => String(o.effectiveDateTime).slice(0, 10) === last)
        .map((o) => ({ ...clone(o), id: `${String(o.id)}-dup` }));
      return [...rs, ...copies];
    },
  },
  {
    name: 'entered in error',
    chart: (rs) => {
      const out = clone(rs);
      const condition = out.find((r) => isType('Condition')(r));
      if (condition) condition.verificationStatus = { coding: [{ code: 'entered-in-error' }] };
      const med = out.find((r) => isType('MedicationRequest')(r) && r.status === 'active');
      if (med) med.status = 'entered-in-error';
      const allergy = out.find(isType('AllergyIntolerance'));
      if (allergy) allergy.verificationStatus = { coding: [{ code: 'refuted' }] };
      return out;
    },
  },
  {
    name: 'deceased',
    chart: (rs) =>
      rs.map((r) =>
        r.resourceType === 'Patient' && !r.deceasedDateTime ? { ...r, deceasedDateTime: '2021-01-15T00:00:00Z' } : r,
      ),
  },
  {
    // Free text carrying identifiers the redaction must remove, in an uncoded active problem.
    name: 'free-text identifiers',
    chart: (rs) => [
      ...rs,
      {
        resourceType: 'Condition',
        id: 'free-text-1',
        clinicalStatus: { coding: [{ code: 'active' }] },
        code: {
          text: 'Fall at home, seen by Dr. Alan Grant on December 2, 1957; MRN ending 4567; SSN 123 45 6789; aged 95',
        },
      },
    ],
  },
  {
    name: 'allergies key missing',
    prefetch: (p) => {
      const out = { ...p };
      delete out.allergies;
      return out;
    },
  },
  {
    // Only the recent-labs search failed: the panel labs are still known, the section says it is incomplete.
    name: 'recent labs key failed',
    prefetch: (p) => ({
      ...p,
      observations: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] },
    }),
  },
  {
    name: 'labs key failed',
    prefetch: (p) => ({
      ...p,
      observations: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] },
      labPanels: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] },
    }),
  },
];
