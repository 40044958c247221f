/**
 * Test support: a small stand-in for an EHR that answers a service's prefetch templates from a Synthea
 * transaction bundle, the way a FHIR server would answer the searches (type, patient, category, status and
 * clinical-status lists, `code=` lists with or without system, `_include` of medications, `_sort=-date`).
 * `_count` is a page size: a CDS client prefetching a search sends all its results. Independent of the summariser.
 */
type Json = Record<string, unknown>;

export function bundleResources(bundle: Json): Json[] {
  const entries = (bundle.entry as Array<{ fullUrl?: string; resource: Json }>) ?? [];
  const byUrn = new Map<string, string>();
  for (const e of entries) {
    if (e.fullUrl && typeof e.resource.id === 'string')
      byUrn.set(e.fullUrl, `${String(e.resource.resourceType)}/${e.resource.id}`);
  }
  return JSON.parse(JSON.stringify(entries.map((e) => e.resource)), (key, value: unknown) =>
    key === 'reference' && typeof value === 'string' && byUrn.has(value) ? byUrn.get(value) : value,
  ) as Json[];
}

function codes(v: unknown): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.flatMap((c) =>
    c && typeof c === 'object' && Array.isArray((c as Json).coding)
      ? ((c as Json).coding as Json[]).flatMap((x) => [String(x.code), `${String(x.system)}|${String(x.code)}`])
      : [],
  );
}

function statusOf(v: unknown): string {
  if (typeof v === 'string') return v;
  return codes(v)[0] ?? '';
}

function dateOf(r: Json): string {
  const v =
    r.effectiveDateTime ??
    r.onsetDateTime ??
    r.authoredOn ??
    r.occurrenceDateTime ??
    r.performedDateTime ??
    r.recordedDate;
  const period = (r.period ?? r.effectivePeriod ?? r.performedPeriod) as Json | undefined;
  return String(v ?? period?.start ?? '');
}

function matches(r: Json, name: string, value: string): boolean {
  const wanted = value.split(',');
  switch (name) {
    case 'patient':
    case '_sort':
    case '_count':
    case '_include':
      return true;
    case 'category':
      return codes(r.category).some((c) => wanted.includes(c));
    case 'code':
      return codes(r.code).some((c) => wanted.includes(c));
    case 'status':
      return wanted.includes(statusOf(r.status));
    case 'clinical-status':
      return wanted.includes(statusOf(r.clinicalStatus));
    default:
      throw new Error(`the stand-in EHR does not support search parameter ${name}`);
  }
}

/** The prefetch an EHR would send for these templates (`{{context.patientId}}` is the bundle's patient). */
export function answerPrefetch(
  templates: Record<string, string>,
  resources: ReadonlyArray<Json>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, template] of Object.entries(templates)) {
    const [path = '', query = ''] = template.split('?');
    const [type] = path.split('/');
    if (path.includes('/')) {
      out[key] = resources.find((r) => r.resourceType === type);
      continue;
    }
    const params = [...new URLSearchParams(query)];
    const found = resources
      .filter((r) => r.resourceType === type && params.every(([n, v]) => matches(r, n, v)))
      .sort((a, b) => dateOf(b).localeCompare(dateOf(a)));
    const included = params.some(([n, v]) => n === '_include' && v === 'MedicationRequest:medication')
      ? resources.filter(
          (m) =>
            m.resourceType === 'Medication' &&
            found.some((r) => (r.medicationReference as Json | undefined)?.reference === `Medication/${String(m.id)}`),
        )
      : [];
    const entry = [
      ...found.map((resource) => ({ resource, search: { mode: 'match' } })),
      ...included.map((resource) => ({ resource, search: { mode: 'include' } })),
    ];
    out[key] = { resourceType: 'Bundle', type: 'searchset', total: found.length, entry };
  }
  return out;
}
