import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** ../shared/fhir-fixtures beside the repository (a copy sits there in CI too). */
export const FIXTURES_DIR =
  process.env.FHIR_FIXTURES_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'fhir-fixtures');
export const SPEC_EXAMPLES_DIR =
  process.env.CDS_HOOKS_EXAMPLES_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'cds-hooks-spec-examples');

type Json = Record<string, unknown>;

interface TransactionBundle {
  entry: Array<{ fullUrl?: string; resource: Json }>;
}

/**
 * Turns a Synthea transaction bundle into CDS Hooks prefetch: the Patient plus searchset Bundles of
 * active Conditions and MedicationRequests, with urn:uuid references resolved to Type/id.
 */
export function prefetchFromSynthea(file: string): { patientId: string; prefetch: Json } {
  const bundle = JSON.parse(readFileSync(join(FIXTURES_DIR, file), 'utf8')) as TransactionBundle;
  const byUrn = new Map<string, string>();
  for (const e of bundle.entry) {
    if (e.fullUrl && typeof e.resource.id === 'string')
      byUrn.set(e.fullUrl, `${String(e.resource.resourceType)}/${e.resource.id}`);
  }
  const resolved = JSON.parse(JSON.stringify(bundle.entry.map((e) => e.resource)), (key, value: unknown) =>
    key === 'reference' && typeof value === 'string' && byUrn.has(value) ? byUrn.get(value) : value,
  ) as Json[];
  const patient = resolved.find((r) => r.resourceType === 'Patient');
  if (!patient || typeof patient.id !== 'string') throw new Error(`${file}: no Patient`);
  const searchset = (type: string) => {
    const entry = resolved.filter((r) => r.resourceType === type).map((resource) => ({ resource }));
    return { resourceType: 'Bundle', type: 'searchset', total: entry.length, entry };
  };
  return {
    patientId: patient.id,
    prefetch: { patient, conditions: searchset('Condition'), medications: searchset('MedicationRequest') },
  };
}

export function specExample(file: string): Json {
  return JSON.parse(readFileSync(join(SPEC_EXAMPLES_DIR, file), 'utf8')) as Json;
}
