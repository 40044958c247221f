/**
 * Which prefetch keys the CDS Client did not satisfy (CDS Hooks 2.0.1, "Prefetch Template": "It is the CDS
 * Service's responsibility to check prefetched data against its template to determine what requests were
 * satisfied").
 *
 * Decisions, per value sent for a key:
 * - absent key -> `missing`: the client chose not to (or could not) satisfy it.
 * - an OperationOutcome, or a Bundle with an OperationOutcome entry carrying an `error`/`fatal` issue (or no
 *   severity) -> `error`: the client reports it failed. Informational or warning outcomes (e.g. "some results
 *   filtered", search.mode `outcome` notes many EHRs add) are not failures: the Bundle is kept as data.
 * - `null` -> `empty`: the spec's way of saying "no data". Worth re-checking when we may call the FHIR server,
 *   but still a legitimate answer when we may not.
 * - an empty searchset Bundle for a search template -> `empty`, unless it states `total: 0`. The spec allows
 *   "a bundle with zero entries" as a no-results answer, but an EHR that skipped a query sometimes sends an
 *   empty Bundle too; an explicit `total: 0` is the EHR affirming it ran the search, so we trust it, while a
 *   bare empty Bundle is re-checked when possible and otherwise accepted as "no results".
 * - a Bundle for a read template, or a non-object value -> `missing`: not the shape the template asks for.
 *
 * `findPrefetchGaps` returns every key that is not `present`; the resolver uses the kind to decide whether an
 * unfillable gap is unavailable (`missing`, `error`) or keeps the client's "no data" answer (`empty`).
 */

export type PrefetchValueKind = 'present' | 'missing' | 'error' | 'empty';

export function findPrefetchGaps(
  templates: Record<string, string>,
  prefetch: Record<string, unknown> | undefined,
): string[] {
  return Object.keys(templates).filter(
    (key) => classifyPrefetchValue(templates[key] ?? '', prefetch, key) !== 'present',
  );
}

export function classifyPrefetchValue(
  template: string,
  prefetch: Record<string, unknown> | undefined,
  key: string,
): PrefetchValueKind {
  if (!prefetch || !Object.prototype.hasOwnProperty.call(prefetch, key)) return 'missing';
  const value = prefetch[key];
  if (value === null) return 'empty';
  if (!isRecord(value) || typeof value['resourceType'] !== 'string') return 'missing';
  if (value['resourceType'] === 'OperationOutcome') return 'error';
  if (value['resourceType'] !== 'Bundle') return 'present';
  if (!isSearchTemplate(template)) return 'missing';
  const entries = Array.isArray(value['entry']) ? (value['entry'] as unknown[]) : [];
  if (entries.some(isFailureOutcomeEntry)) return 'error';
  if (entries.length === 0 && value['total'] !== 0) return 'empty';
  return 'present';
}

/** A search template names a type (`Observation?...`); a read names an instance (`Patient/123`). */
export function isSearchTemplate(template: string): boolean {
  const path = template.split('?')[0] ?? '';
  return !path.replace(/^\/+|\/+$/g, '').includes('/');
}

function isFailureOutcomeEntry(entry: unknown): boolean {
  if (!isRecord(entry)) return false;
  const resource = entry['resource'];
  const search = entry['search'];
  const isOutcome =
    (isRecord(resource) && resource['resourceType'] === 'OperationOutcome') ||
    (isRecord(search) && search['mode'] === 'outcome');
  if (!isOutcome) return false;
  const issues = isRecord(resource) && Array.isArray(resource['issue']) ? (resource['issue'] as unknown[]) : [];
  // No readable issue: we cannot tell it is harmless, so it counts as a failure.
  if (issues.length === 0) return true;
  return issues.some((i) => !isRecord(i) || !['information', 'warning'].includes(String(i['severity'])));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
