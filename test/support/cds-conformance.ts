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

type Json = Record<string, unknown>;

/**
 * CDS Hooks 2.0.1 §Suggestion and §Action, plus the project's own rules: `selectionBehavior` whenever there are
 * suggestions (spec MUST), a uuid and a label on every suggestion (so feedback can name it), every action typed
 * and described, `create`/`update` with a resource, `delete` with a `resourceId` (2.0.1; an id in `resource` is
 * deprecated), `appContext` only on smart links.
 */
function suggestionProblems(card: Json, i: number, problems: string[]): void {
  const suggestions = Array.isArray(card.suggestions) ? (card.suggestions as Json[]) : [];
  if (suggestions.length > 0 && card.selectionBehavior === undefined)
    problems.push(`cards[${i}].selectionBehavior missing with suggestions`);
  const uuids = new Set<string>();
  suggestions.forEach((s, j) => {
    const at = `cards[${i}].suggestions[${j}]`;
    if (typeof s.uuid !== 'string' || !/^[0-9a-f-]{36}$/i.test(s.uuid))
      problems.push(`${at}.uuid missing or not a uuid`);
    else if (uuids.has(s.uuid)) problems.push(`${at}.uuid repeated`);
    else uuids.add(s.uuid);
    const actions = Array.isArray(s.actions) ? (s.actions as Json[]) : [];
    actions.forEach((a, k) => {
      const where = `${at}.actions[${k}]`;
      if (a.type === 'delete') {
        if (typeof a.resourceId !== 'string' || !/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(a.resourceId))
          problems.push(`${where}: delete without a relative resourceId`);
      } else if (typeof a.resource !== 'object' || a.resource === null)
        problems.push(`${where}: ${String(a.type)} without a resource`);
    });
  });
  const links = Array.isArray(card.links) ? (card.links as Json[]) : [];
  links.forEach((l, j) => {
    if (l.type === 'absolute' && l.appContext !== undefined)
      problems.push(`cards[${i}].links[${j}].appContext on an absolute link`);
  });
}

/**
 * The one conformance check every suite runs on every CDS Hooks response it receives: schema-valid, a uuid
 * on every card, summary under 140 characters (schema), a source naming the model as AI-generated, no empty optional
 * fields, well-formed suggestions and links. Returns the list of problems (empty when conformant) so a failing test
 * says what is wrong.
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
    suggestionProblems(card, i, problems);
  });
  return problems.map((p) => (p.startsWith('$') ? `empty optional field at ${p}` : p));
}
