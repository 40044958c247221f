import type { InferenceResultEntity } from '@app/database';
import { groundFindings, parseFindings, type ActionMenu, type ModelProfile } from '@app/prompts';
import type { CdsServiceDefinition } from '../discovery/service-catalog';
import { buildCards } from './card-builder';
import type { Card, CardLink } from './card';
import { NO_LINKS, type CardTextPolicy, type Removals } from './card-markdown';
import type { SuggestionContext } from './suggestions/action-offer';
import {
  buildSuggestions,
  selectionBehaviorOf,
  type BuiltSuggestion,
  type SuggestionDrop,
} from './suggestions/suggestion-builder';
import { SUGGESTIONS_OFF, type SuggestionPolicy } from './suggestions/suggestion-policy';

/** What happened between the model's answer and the cards, kept with the invocation (ids and reasons only). */
export interface AnswerDetail {
  readonly result: 'pending' | 'ok' | 'error' | 'expired';
  readonly output?: 'not_json' | 'schema_mismatch' | 'valid';
  readonly findings?: number;
  readonly dropped?: Array<{ index: number; reason: string }>;
  readonly downgradedCritical?: number;
  /** What the card text policy took out of the model's text (HTML, images, links), by kind: counts only. */
  readonly removedMarkup?: Removals;
  /** Suggestions on the cards, and the action choices that did not become one (finding, action, reason). */
  readonly suggestions?: number;
  readonly droppedActions?: SuggestionDrop[];
  readonly shadow?: boolean;
  readonly shadowCards?: number;
  /** In shadow mode, what the clinician would have seen: indicator and summary of each card withheld. */
  readonly shadowPreview?: Array<{ indicator: string; summary: string }>;
  /** The one repair attempt after invalid output, and what the first answer was. */
  readonly repair?: string;
  readonly firstOutput?: string;
  /** Cards ready only after the deadline had answered the EHR with none: counted, never on record as shown. */
  readonly withheldAtDeadline?: number;
}

/** A suggestion on record: which card carries it, its kind and configured code (for feedback and governance). */
export interface SuggestionRecord {
  readonly uuid: string;
  readonly cardUuid: string;
  readonly kind: BuiltSuggestion['kind'];
  readonly code: string | null;
}

/** What a call's cards may carry beyond the model's text: its suggestion policy, menu and context, its link. */
export interface CardOptions {
  readonly textPolicy?: CardTextPolicy;
  readonly suggestionPolicy?: SuggestionPolicy;
  /** The menu the prompt offered (its manifest's `actions`). */
  readonly menu?: ActionMenu;
  readonly context?: SuggestionContext;
  readonly link?: CardLink;
}

export interface ComposedCards {
  readonly cards: Card[];
  readonly detail: AnswerDetail;
  readonly suggestions: SuggestionRecord[];
}

/**
 * Turns a stored inference result into cards under the service's safety policy: only valid structured
 * output, only findings grounded in facts the model was shown, no `critical` unless allowed, only suggestions
 * the call offered and the service built and checked, and in shadow mode everything is computed and recorded
 * but no card is returned.
 */
export function composeCards(
  result: InferenceResultEntity | undefined,
  references: Readonly<Record<string, string>>,
  service: CdsServiceDefinition,
  profile: ModelProfile,
  options: CardOptions = {},
): ComposedCards {
  if (!result) return { cards: [], detail: { result: 'pending' }, suggestions: [] };
  if (result.outcome !== 'ok' || result.outputText === null)
    return { cards: [], detail: { result: result.outcome }, suggestions: [] };
  const parsed = parseFindings(result.outputText);
  if (!parsed.ok) return { cards: [], detail: { result: 'ok', output: parsed.reason }, suggestions: [] };
  const grounded = groundFindings(parsed.findings, references, { allowCritical: service.allowCritical });
  const droppedFindings = new Set(grounded.dropped.map((d) => d.index));
  const originalIndex = parsed.findings.findings.map((_, i) => i).filter((i) => !droppedFindings.has(i));
  const removed: Removals = {};
  const built = new Map<number, BuiltSuggestion[]>();
  const droppedActions: SuggestionDrop[] = [];
  grounded.kept.forEach((f, k) => {
    const finding = originalIndex[k]!;
    const out = options.context
      ? buildSuggestions(
          finding,
          f.actions,
          options.menu,
          options.context,
          options.suggestionPolicy ?? SUGGESTIONS_OFF,
          removed,
        )
      : { built: [], dropped: (f.actions ?? []).map((_, action) => ({ finding, action, reason: 'no_context' })) };
    built.set(k, out.built);
    droppedActions.push(...out.dropped);
  });
  const cards = buildCards({ findings: grounded.kept }, profile.label, options.textPolicy ?? NO_LINKS, removed, {
    ...(options.link ? { links: [options.link] } : {}),
    suggestionsFor: (k) => {
      const b = built.get(k) ?? [];
      return { suggestions: b.map((s) => s.suggestion), selectionBehavior: selectionBehaviorOf(b) };
    },
  });
  const suggestions: SuggestionRecord[] = cards.flatMap((card, k) =>
    (built.get(k) ?? []).map((b) => ({ uuid: b.suggestion.uuid, cardUuid: card.uuid, kind: b.kind, code: b.code })),
  );
  const detail: AnswerDetail = {
    result: 'ok',
    output: 'valid',
    findings: parsed.findings.findings.length,
    ...(grounded.dropped.length ? { dropped: grounded.dropped } : {}),
    ...(grounded.downgraded ? { downgradedCritical: grounded.downgraded } : {}),
    ...(Object.keys(removed).length ? { removedMarkup: removed } : {}),
    ...(suggestions.length ? { suggestions: suggestions.length } : {}),
    ...(droppedActions.length ? { droppedActions } : {}),
  };
  if (service.mode === 'shadow') {
    const shadowPreview = cards.map((c) => ({ indicator: c.indicator, summary: c.summary }));
    return {
      cards: [],
      detail: { ...detail, shadow: true, shadowCards: cards.length, shadowPreview },
      suggestions: [],
    };
  }
  return { cards, detail, suggestions };
}
