import { validateCdsResponse } from './cds-hooks-card.schema';

/** Optional CDS Hooks fields must be omitted rather than sent empty (spec §Card Attributes). */
function emptyValuePaths(value: unknown, path: string, out: string[]): void {
  if (value === null || value === '') out.push(path);
  else if (Array.isArray(value)) {
    if (value.length === 0 && path !== '$.cards') out.push(path);
    value.forEach((v, i) => emptyValuePaths(v, `${path}[${i}]`, out));
  } else if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.push(path);
    for (const [k, v] of entries) emptyValuePaths(v, `${path}.${k}`, out);
  }
}

/**
 * The one conformance check every suite runs on every CDS Hooks response it receives: schema-valid, a uuid
 * on every card, summary under 140 characters (schema), a source naming the model as AI-generated, no empty optional
 * fields. Returns the list of problems (empty when conformant) so a failing test says what is wrong.
 */
export function cdsResponseProblems(json: unknown): string[] {
  const problems: string[] = [];
  if (!validateCdsResponse(json)) {
    problems.push(
      ...(validateCdsResponse.errors ?? []).map((e) => `schema ${e.instancePath || '$'} ${e.message ?? ''}`),
    );
    return problems;
  }
  emptyValuePaths(json, '$', problems);
  const cards = (json as { cards: Array<Record<string, unknown>> }).cards;
  const uuids = new Set<string>();
  cards.forEach((card, i) => {
    const uuid = card.uuid;
    if (typeof uuid !== 'string' || !/^[0-9a-f-]{36}$/i.test(uuid))
      problems.push(`cards[${i}].uuid missing or not a uuid`);
    else if (uuids.has(uuid)) problems.push(`cards[${i}].uuid repeated`);
    else uuids.add(uuid);
    const label = (card.source as { label?: unknown } | undefined)?.label;
    if (typeof label !== 'string' || !/AI-generated/.test(label))
      problems.push(`cards[${i}].source.label does not say AI-generated`);
  });
  return problems.map((p) => (p.startsWith('$') ? `empty optional field at ${p}` : p));
}
