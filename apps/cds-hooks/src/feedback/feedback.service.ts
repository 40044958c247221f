import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { CardFeedbackRepository, type OverrideReason } from '@app/database';
import { HookRefusalException } from '../errors/hook-refusal.exception';
import type { FeedbackRequest } from './feedback.schema';

export interface FeedbackMeta {
  readonly requestId: string;
  /** The client the gateway's token names. */
  readonly clientId: string;
}

/**
 * Feedback on our cards: stored once (a repeat is a no-op), refused (404, as for a card that does not exist) for
 * cards this service never returned to this very client, and refused (400) when it accepts a suggestion the
 * card did not carry.
 */
@Injectable()
export class FeedbackService {
  constructor(
    private readonly cards: CardFeedbackRepository,
    private readonly audit: AuditWriter,
  ) {}

  private async checkAcceptedSuggestions(items: FeedbackRequest['feedback']): Promise<void> {
    const unknown = await unknownSuggestions(this.cards, items);
    if (unknown.length > 0)
      throw HookRefusalException.invalid(
        'feedback.refused',
        'unknown_suggestion',
        unknown.map(({ i, j }) => ({
          diagnostics: `the card of feedback[${i}] did not carry this suggestion`,
          expression: `feedback[${i}].acceptedSuggestions[${j}].id`,
        })),
      );
  }

  async receive(serviceId: string, request: FeedbackRequest, meta: FeedbackMeta): Promise<void> {
    const items = request.feedback;
    const known = await this.cards.knownCards(
      serviceId,
      items.map((f) => f.card),
      meta.clientId,
    );
    const unknown = items.map((f, i) => ({ f, i })).filter(({ f }) => !known.has(f.card));
    if (unknown.length > 0) {
      throw new HookRefusalException(
        'feedback.refused',
        'unknown_card',
        404,
        unknown.map(({ f, i }) => ({
          code: 'not-found' as const,
          diagnostics: `card ${f.card} was not returned by service ${serviceId} to this client`,
          expression: `feedback[${i}].card`,
        })),
      );
    }
    await this.checkAcceptedSuggestions(items);
    const receivedAt = new Date();
    const repeats = await this.cards.storeFeedback(
      items.map((f) => ({
        id: randomUUID(),
        serviceId,
        cardUuid: f.card,
        outcome: f.outcome,
        acceptedSuggestions: f.acceptedSuggestions?.map((s) => ({ id: s.id.toLowerCase() })) ?? null,
        overrideReason: f.overrideReason ? overrideReason(f.overrideReason) : null,
        clientId: meta.clientId,
        outcomeAt: new Date(f.outcomeTimestamp),
        receivedAt,
      })),
    );
    for (const [i, f] of items.entries()) {
      await this.audit.record({
        action: 'feedback.received',
        outcome: 'success',
        service: 'cds-hooks',
        clientId: meta.clientId,
        requestId: meta.requestId,
        detail: {
          serviceId,
          card: f.card,
          feedbackOutcome: f.outcome,
          acceptedSuggestions: f.acceptedSuggestions?.map((s) => s.id).join(',') ?? null,
          duplicate: repeats[i] ?? false,
        },
      });
    }
  }
}

/** Nothing is stored when any accepted suggestion is not one the named card carried (the whole request is refused). */
async function unknownSuggestions(
  cards: CardFeedbackRepository,
  items: FeedbackRequest['feedback'],
): Promise<Array<{ i: number; j: number; id: string }>> {
  const accepted = items.flatMap((f, i) =>
    (f.acceptedSuggestions ?? []).map((s, j) => ({ i, j, id: s.id, card: f.card })),
  );
  if (accepted.length === 0) return [];
  const carried = await cards.suggestionsOfCards(accepted.map((a) => a.card));
  return accepted.filter((a) => !carried.get(a.card)?.has(a.id.toLowerCase()));
}

/** Keeps the fields the spec defines; whatever else an EHR adds is not stored. */
function overrideReason(r: NonNullable<FeedbackRequest['feedback'][number]['overrideReason']>): OverrideReason {
  return {
    ...(r.reason
      ? {
          reason: {
            code: r.reason.code,
            ...(r.reason.system ? { system: r.reason.system } : {}),
            ...(r.reason.display ? { display: r.reason.display } : {}),
          },
        }
      : {}),
    ...(r.userComment !== undefined ? { userComment: r.userComment } : {}),
  };
}
