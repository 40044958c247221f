import { z } from 'zod';
import { findingsSchema, type ActionKind } from '../findings';
import type { Fact } from '../summary/clinical-summary';

/** A coded item the service may order or prescribe (from its configured formulary or lab panel). */
export interface OfferedItem {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

/** What the service offers for one call (its policy applied to the call's context). */
export interface ActionOffer {
  readonly kinds: ReadonlyArray<ActionKind>;
  /** `Type/id` of the draft orders of this call the service could remove or replace (this patient's only). */
  readonly draftRefs: ReadonlyArray<string>;
  readonly medications: ReadonlyArray<OfferedItem>;
  readonly tests: ReadonlyArray<OfferedItem>;
}

/** The options the prompt listed, by handle: kept in the manifest to ground and build the chosen actions. */
export interface ActionMenu {
  readonly kinds: ActionKind[];
  /** Draft order handle (`D1`, as in the orders section) -> `Type/id`. */
  readonly drafts: Record<string, string>;
  /** `F1`... -> formulary item. */
  readonly medications: Record<string, OfferedItem>;
  /** `T1`... -> lab or monitoring test. */
  readonly tests: Record<string, OfferedItem>;
}

/** At most this many actions per finding (each becomes a suggestion on the card). */
export const MAX_ACTIONS_PER_FINDING = 3;

const REPLACEABLE = /^MedicationRequest\//;

/**
 * The menu for a call: the kinds that have something to act on, draft orders by the handles the orders
 * section gave them (only those the offer names), formulary and lab items under new handles. Undefined when
 * nothing can be offered: the prompt and the schema are then exactly those of a call without actions.
 */
export function actionMenu(offer: ActionOffer | undefined, orders: ReadonlyArray<Fact>): ActionMenu | undefined {
  if (!offer) return undefined;
  const wanted = new Set(offer.draftRefs);
  const drafts = Object.fromEntries(orders.filter((f) => f.ref && wanted.has(f.ref)).map((f) => [f.handle, f.ref!]));
  const replaceable = Object.values(drafts).some((ref) => REPLACEABLE.test(ref));
  const kinds = offer.kinds.filter((k) =>
    k === 'remove-draft'
      ? Object.keys(drafts).length > 0
      : k === 'replace-draft'
        ? replaceable && offer.medications.length > 0
        : offer.tests.length > 0,
  );
  if (kinds.length === 0) return undefined;
  const handles = (prefix: string, items: ReadonlyArray<OfferedItem>) =>
    Object.fromEntries(items.map((item, i) => [`${prefix}${i + 1}`, { ...item }]));
  return {
    kinds,
    drafts: kinds.some((k) => k !== 'order-lab') ? drafts : {},
    medications: kinds.includes('replace-draft') ? handles('F', offer.medications) : {},
    tests: kinds.includes('order-lab') ? handles('T', offer.tests) : {},
  };
}

/** The rule added to the system message when a menu is offered. */
export const ACTIONS_RULE =
  'A finding may propose "actions", only options listed under "Actions the service can prepare", by handle (e.g. {"kind":"replace-draft","draft":"D1","medication":"F1"}); none unless the finding calls for it.';

/** The menu as prompt lines (inside the data delimiters): configured items and handles, no patient data. */
export function renderActionMenu(menu: ActionMenu): string {
  const lines = ['Actions the service can prepare (options, by handle):'];
  const drafts = Object.keys(menu.drafts).join(', ');
  if (menu.kinds.includes('remove-draft')) lines.push(`  remove-draft: draft ${drafts}`);
  if (menu.kinds.includes('replace-draft')) {
    const meds = Object.keys(menu.drafts).filter((h) => REPLACEABLE.test(menu.drafts[h]!));
    lines.push(`  replace-draft: draft ${meds.join(', ')} with medication:`);
    for (const [h, item] of Object.entries(menu.medications)) lines.push(`    [${h}] ${item.display}`);
  }
  if (menu.kinds.includes('order-lab')) {
    lines.push('  order-lab: test:');
    for (const [h, item] of Object.entries(menu.tests)) lines.push(`    [${h}] ${item.display}`);
  }
  return lines.join('\n');
}

const nonEmpty = (values: string[]): [string, ...string[]] | undefined =>
  values.length > 0 ? (values as [string, ...string[]]) : undefined;

/**
 * The structured-output schema of a call: without a menu the plain findings schema; with one, each finding may
 * carry `actions` whose every field is an enum of the handles this call offered (the grammar cannot write
 * anything else). Only keywords both vLLM's and TGI's grammar engines compile (see request-shaping.spec).
 */
export function findingsJsonSchemaFor(menu: ActionMenu | undefined): Record<string, unknown> {
  // The schema depends only on the kinds and the handles offered (a handful of shapes per service), so its JSON
  // is built once per shape; each caller gets its own copy to keep.
  const shape = menu
    ? JSON.stringify([menu.kinds, Object.keys(menu.drafts), Object.keys(menu.medications), Object.keys(menu.tests)])
    : '';
  let json = schemaJsonByShape.get(shape);
  if (json === undefined) {
    json = JSON.stringify(buildSchema(menu));
    if (schemaJsonByShape.size >= MAX_SCHEMA_SHAPES) schemaJsonByShape.clear();
    schemaJsonByShape.set(shape, json);
  }
  return JSON.parse(json) as Record<string, unknown>;
}

/** Schemas remembered by shape; past this many (never in practice) the memo starts over. */
const MAX_SCHEMA_SHAPES = 256;
const schemaJsonByShape = new Map<string, string>();

function buildSchema(menu: ActionMenu | undefined): Record<string, unknown> {
  if (!menu) return z.toJSONSchema(findingsSchema);
  const drafts = nonEmpty(Object.keys(menu.drafts));
  const meds = nonEmpty(Object.keys(menu.medications));
  const tests = nonEmpty(Object.keys(menu.tests));
  const action = z.strictObject({
    kind: z.enum(menu.kinds as [ActionKind, ...ActionKind[]]),
    ...(drafts ? { draft: z.enum(drafts).optional() } : {}),
    ...(meds ? { medication: z.enum(meds).optional() } : {}),
    ...(tests ? { test: z.enum(tests).optional() } : {}),
  });
  const finding = findingsSchema.shape.findings.element.extend({
    actions: z.array(action).max(MAX_ACTIONS_PER_FINDING).optional(),
  });
  return z.toJSONSchema(z.object({ findings: z.array(finding).max(10) }));
}
