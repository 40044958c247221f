import type { ActionMenu, OfferedItem } from '../actions/action-menu';
import type { ActionChoice } from '../findings';

/** An action choice checked against the call's menu, with its handles resolved. */
export type GroundedAction =
  | { readonly kind: 'remove-draft'; readonly draftRef: string }
  | { readonly kind: 'replace-draft'; readonly draftRef: string; readonly medication: OfferedItem }
  | { readonly kind: 'order-lab'; readonly test: OfferedItem };

export type ActionDropReason =
  | 'not_offered'
  | 'unknown_draft'
  | 'unknown_medication'
  | 'unknown_test'
  | 'incomplete'
  | 'extra_handle'
  | 'not_replaceable'
  | 'duplicate';

export interface GroundedActions {
  readonly kept: GroundedAction[];
  readonly dropped: Array<{ action: number; reason: ActionDropReason }>;
}

/** Which handles each kind takes: exactly these, no others. */
const FIELDS = {
  'remove-draft': ['draft'],
  'replace-draft': ['draft', 'medication'],
  'order-lab': ['test'],
} as const;

function ground(choice: ActionChoice, menu: ActionMenu | undefined): GroundedAction | ActionDropReason {
  if (!menu || !(menu.kinds as string[]).includes(choice.kind)) return 'not_offered';
  const kind = choice.kind as keyof typeof FIELDS;
  const wanted: ReadonlyArray<string> = FIELDS[kind];
  const given = (['draft', 'medication', 'test'] as const).filter((f) => choice[f] !== undefined);
  if (wanted.some((f) => !given.includes(f as (typeof given)[number]))) return 'incomplete';
  if (given.some((f) => !wanted.includes(f))) return 'extra_handle';
  if (kind === 'order-lab') {
    const test = menu.tests[choice.test!];
    return test ? { kind, test } : 'unknown_test';
  }
  const draftRef = Object.hasOwn(menu.drafts, choice.draft!) ? menu.drafts[choice.draft!] : undefined;
  if (!draftRef) return 'unknown_draft';
  if (kind === 'remove-draft') return { kind, draftRef };
  if (!draftRef.startsWith('MedicationRequest/')) return 'not_replaceable';
  const medication = Object.hasOwn(menu.medications, choice.medication!)
    ? menu.medications[choice.medication!]
    : undefined;
  return medication ? { kind, draftRef, medication } : 'unknown_medication';
}

const keyOf = (a: GroundedAction): string =>
  a.kind === 'order-lab' ? `lab:${a.test.system}|${a.test.code}` : `${a.kind}:${a.draftRef}`;

/**
 * A finding's action choices must each be one the call offered: a kind on the menu, exactly the handles that
 * kind takes, each one the prompt listed (a draft order of this request and this patient, an item of the
 * configured formulary or panel). Anything else is dropped with its reason; repeats are dropped too.
 */
export function groundActions(
  choices: ReadonlyArray<ActionChoice> | undefined,
  menu: ActionMenu | undefined,
): GroundedActions {
  const kept: GroundedAction[] = [];
  const dropped: GroundedActions['dropped'] = [];
  const seen = new Set<string>();
  (choices ?? []).forEach((choice, action) => {
    const g = ground(choice, menu);
    if (typeof g === 'string') return void dropped.push({ action, reason: g });
    if (seen.has(keyOf(g))) return void dropped.push({ action, reason: 'duplicate' });
    seen.add(keyOf(g));
    kept.push(g);
  });
  return { kept, dropped };
}
