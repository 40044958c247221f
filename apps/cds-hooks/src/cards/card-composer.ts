import type { InferenceResultEntity } from '@app/database';
import { groundFindings, parseFindings, type ModelProfile } from '@app/prompts';
import type { CdsServiceDefinition } from '../discovery/service-catalog';
import { buildCards } from './card-builder';
import type { Card } from './card';
import { NO_LINKS, type CardTextPolicy, type Removals } from './card-markdown';

/** What happened between the model's answer and the cards, kept with the invocation (ids and reasons only). */
export interface AnswerDetail {
  readonly result: 'pending' | 'ok' | 'error' | 'expired';
  readonly output?: 'not_json' | 'schema_mismatch' | 'valid';
  readonly findings?: number;
  readonly dropped?: Array<{ index: number; reason: string }>;
  readonly downgradedCritical?: number;
  /** What the card text policy took out of the model's text (HTML, images, links), by kind: counts only. */
  readonly removedMarkup?: Removals;
  readonly shadow?: boolean;
  readonly shadowCards?: number;
  /** In shadow mode, what the clinician would have seen: indicator and summary of each card withheld. */
  readonly shadowPreview?: Array<{ indicator: string; summary: string }>;
  /** The one repair attempt after invalid output, and what the first answer was. */
  readonly repair?: string;
  readonly firstOutput?: string;
}

/**
 * Turns a stored inference result into cards under the service's safety policy: only valid structured
 * output, only findings grounded in facts the model was shown, no `critical` unless allowed, and in
 * shadow mode everything is computed and recorded but no card is returned.
 */
export function composeCards(
  result: InferenceResultEntity | undefined,
  references: Readonly<Record<string, string>>,
  service: CdsServiceDefinition,
  profile: ModelProfile,
  textPolicy: CardTextPolicy = NO_LINKS,
): { cards: Card[]; detail: AnswerDetail } {
  if (!result) return { cards: [], detail: { result: 'pending' } };
  if (result.outcome !== 'ok' || result.outputText === null) return { cards: [], detail: { result: result.outcome } };
  const parsed = parseFindings(result.outputText);
  if (!parsed.ok) return { cards: [], detail: { result: 'ok', output: parsed.reason } };
  const grounded = groundFindings(parsed.findings, references, { allowCritical: service.allowCritical });
  const removed: Removals = {};
  const cards = buildCards({ findings: grounded.kept }, profile.label, textPolicy, removed);
  const detail: AnswerDetail = {
    result: 'ok',
    output: 'valid',
    findings: parsed.findings.findings.length,
    ...(grounded.dropped.length ? { dropped: grounded.dropped } : {}),
    ...(grounded.downgraded ? { downgradedCritical: grounded.downgraded } : {}),
    ...(Object.keys(removed).length ? { removedMarkup: removed } : {}),
  };
  if (service.mode === 'shadow') {
    const shadowPreview = cards.map((c) => ({ indicator: c.indicator, summary: c.summary }));
    return { cards: [], detail: { ...detail, shadow: true, shadowCards: cards.length, shadowPreview } };
  }
  return { cards, detail };
}
