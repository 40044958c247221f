import { createHash } from 'node:crypto';

/** The first 8 hex digits of the sha256 of the prompt text: how a default answer names its prompt. */
export function promptDigest(promptText: string): string {
  return createHash('sha256').update(promptText, 'utf8').digest('hex').slice(0, 8);
}

/** Default plain-text answer: "Model double answer for prompt <digest>". */
export function defaultTextAnswer(promptText: string): string {
  return `Model double answer for prompt ${promptDigest(promptText)}`;
}

/**
 * Fact handles a prompt lists (lines like `  P1: ...`): the default answer cites the first one, as a grounded
 * model answer would, so a caller that drops uncited findings still gets a card.
 */
export function promptHandles(promptText: string): string[] {
  // A FastChat prompt may show a worked example first: the real case is the last `### User:` turn.
  const last = promptText.lastIndexOf('### User:');
  const caseText = last >= 0 ? promptText.slice(last) : promptText;
  return [...caseText.matchAll(/^\s+([A-Z]\d{1,3}):/gm)].map((m) => m[1]!);
}

type Schema = Record<string, unknown>;

const child = (node: unknown, ...path: string[]): Schema | undefined => {
  let at: unknown = node;
  for (const key of path) at = typeof at === 'object' && at !== null ? (at as Schema)[key] : undefined;
  return typeof at === 'object' && at !== null ? (at as Schema) : undefined;
};
const enumOf = (node: Schema | undefined): string[] =>
  Array.isArray(node?.['enum']) ? (node['enum'] as unknown[]).filter((v): v is string => typeof v === 'string') : [];

/** The handles each action kind of the findings schema (@app/prompts actions/action-menu.ts) takes. */
const ACTION_FIELDS: Readonly<Record<string, ReadonlyArray<string>>> = {
  'remove-draft': ['draft'],
  'replace-draft': ['draft', 'medication'],
  'order-lab': ['test'],
};

/**
 * Action choices as a grammar-bound model could write them: when the schema offers `actions`, one per offered
 * kind (in the schema's order, up to its maxItems), each with the first handle of every field that kind takes.
 */
function actionChoices(schema: Schema | undefined): Array<Record<string, string>> {
  const action = child(schema, 'properties', 'findings', 'items', 'properties', 'actions');
  const fields = child(action, 'items', 'properties');
  if (!action || !fields) return [];
  const max = typeof action['maxItems'] === 'number' ? action['maxItems'] : 1;
  const choices = enumOf(child(fields, 'kind')).flatMap((kind) => {
    const wanted = ACTION_FIELDS[kind];
    if (!wanted) return [];
    const handles = wanted.map((f) => [f, enumOf(child(fields, f))[0]] as const);
    return handles.every(([, h]) => h !== undefined) ? [{ kind, ...Object.fromEntries(handles) }] : [];
  });
  return choices.slice(0, max) as Array<Record<string, string>>;
}

/**
 * Default structured answer: one 'info' finding whose summary names the prompt digest, citing its first fact;
 * when the grammar's schema offers actions, the finding chooses among them (see actionChoices).
 */
export function defaultJsonAnswer(promptText: string, schema?: Schema): string {
  const actions = actionChoices(schema);
  return JSON.stringify({
    findings: [
      {
        summary: `Model double reviewed prompt ${promptDigest(promptText)}`,
        indicator: 'info',
        detail: 'Deterministic placeholder from the model double (a test double, not a model); not clinical advice.',
        evidence: promptHandles(promptText).slice(0, 1),
        ...(actions.length ? { actions } : {}),
      },
    ],
  });
}

/** The answer cut off mid-way, as a model stopped early would leave it: JSON.parse of it fails. */
export function truncateAnswer(answer: string): string {
  return answer.slice(0, Math.max(1, Math.floor(answer.length / 2)));
}
