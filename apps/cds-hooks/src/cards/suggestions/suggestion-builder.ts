import { randomUUID } from 'node:crypto';
import { groundActions, type ActionChoice, type ActionKind, type ActionMenu, type GroundedAction } from '@app/prompts';
import type { Suggestion } from '../card';
import { safePlainText, type Removals } from '../card-markdown';
import { draftName, removableDrafts, type SuggestionContext } from './action-offer';
import { suggestionProblems } from './suggestion-check';
import { labServiceRequest, replacementMedicationRequest } from './suggestion-resources';
import type { SuggestionPolicy } from './suggestion-policy';

/** A suggestion with what is kept on record about it: its kind and the configured code (no patient data). */
export interface BuiltSuggestion {
  readonly suggestion: Suggestion;
  readonly kind: ActionKind;
  /** `system|code` of the formulary or panel item; null for a removal. */
  readonly code: string | null;
  /** The draft it acts on, to choose the card's selectionBehavior. */
  readonly draftRef: string | null;
}

/** A choice that did not become a suggestion: which finding and action, and why (reasons only, no values). */
export interface SuggestionDrop {
  readonly finding: number;
  readonly action: number;
  readonly reason: string;
}

const LABEL_MAX = 120;

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= LABEL_MAX ? flat : `${flat.slice(0, LABEL_MAX - 1).trimEnd()}…`;
}

function build(
  a: GroundedAction,
  ctx: SuggestionContext,
  policy: SuggestionPolicy,
  removals: Removals,
): BuiltSuggestion {
  const uuid = randomUUID();
  if (a.kind === 'order-lab') {
    return {
      suggestion: {
        uuid,
        label: clip(`Order ${a.test.display}`),
        actions: [
          {
            type: 'create',
            description: clip(`Draft order for ${a.test.display} (LOINC ${a.test.code})`),
            resource: labServiceRequest(a.test, ctx.patientId, policy.intent),
          },
        ],
      },
      kind: a.kind,
      code: `${a.test.system}|${a.test.code}`,
      draftRef: null,
    };
  }
  const name = safePlainText(draftName(removableDrafts(ctx).get(a.draftRef), a.draftRef), removals);
  const remove = {
    type: 'delete' as const,
    description: clip(`Remove the draft order ${name}`),
    resourceId: a.draftRef,
  };
  if (a.kind === 'remove-draft')
    return {
      suggestion: { uuid, label: clip(`Remove draft order: ${name}`), actions: [remove] },
      kind: a.kind,
      code: null,
      draftRef: a.draftRef,
    };
  return {
    suggestion: {
      uuid,
      label: clip(`Replace ${name} with ${a.medication.display}`),
      actions: [
        remove,
        {
          type: 'create',
          description: clip(`Draft prescription for ${a.medication.display} (dose to be set by the prescriber)`),
          resource: replacementMedicationRequest(a.medication, ctx.patientId, policy.intent),
        },
      ],
    },
    kind: a.kind,
    code: `${a.medication.system}|${a.medication.code}`,
    draftRef: a.draftRef,
  };
}

/**
 * A finding's action choices as suggestions: each grounded in the call's menu, built by the service from
 * configured codes and the call's context, then checked whole (suggestion-check.ts). A choice that fails any
 * step is dropped and recorded; a card never carries part of a suggestion.
 */
export function buildSuggestions(
  finding: number,
  choices: ReadonlyArray<ActionChoice> | undefined,
  menu: ActionMenu | undefined,
  ctx: SuggestionContext,
  policy: SuggestionPolicy,
  removals: Removals = {},
): { built: BuiltSuggestion[]; dropped: SuggestionDrop[] } {
  if (!choices?.length) return { built: [], dropped: [] };
  if (!policy.enabled)
    return { built: [], dropped: choices.map((_, action) => ({ finding, action, reason: 'suggestions_off' })) };
  const grounded = groundActions(choices, menu);
  const dropped: SuggestionDrop[] = grounded.dropped.map((d) => ({ finding, action: d.action, reason: d.reason }));
  const built: BuiltSuggestion[] = [];
  const keptIndexes = choices.map((_, i) => i).filter((i) => !grounded.dropped.some((d) => d.action === i));
  grounded.kept.forEach((a, k) => {
    const action = keptIndexes[k]!;
    if (!policy.kinds.includes(a.kind)) return void dropped.push({ finding, action, reason: 'not_offered' });
    const b = build(a, ctx, policy, removals);
    const problems = suggestionProblems(b.suggestion, ctx);
    if (problems.length > 0) return void dropped.push({ finding, action, reason: `invalid: ${problems[0]}` });
    built.push(b);
  });
  return { built, dropped };
}

/** `at-most-one` when two suggestions act on the same draft (remove it or replace it), else `any`. */
export function selectionBehaviorOf(built: ReadonlyArray<BuiltSuggestion>): 'at-most-one' | 'any' {
  const drafts = built.flatMap((b) => (b.draftRef ? [b.draftRef] : []));
  return new Set(drafts).size < drafts.length ? 'at-most-one' : 'any';
}
