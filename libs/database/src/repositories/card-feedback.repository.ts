import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FeedbackEntity } from '../entities/feedback.entity';

export type NewFeedback = FeedbackEntity;

/** Suggestions of one kind a service put on cards, and how many were accepted. */
export interface SuggestionAcceptance {
  readonly serviceId: string;
  readonly kind: string;
  readonly offered: number;
  readonly accepted: number;
}

/** One feedback report on a card, as stored (the override reason as the EHR sent it). */
export interface CardFeedbackEntry {
  readonly outcome: string;
  readonly outcomeAt: Date | string;
  readonly overrideReason: unknown;
  readonly clientId: string | null;
}

/** Cards we returned (`cds_cards`), their suggestions (`cds_card_suggestions`) and the feedback EHRs send on them (`feedback`). */
@Injectable()
export class CardFeedbackRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Which of these card ids this service returned to this client: feedback on a card comes only from the client
   * (and so the tenant) whose hook call received it.
   */
  async knownCards(serviceId: string, uuids: ReadonlyArray<string>, clientId: string): Promise<Set<string>> {
    const known: Array<{ uuid: string }> = await this.dataSource.query(
      `SELECT c.uuid FROM cds_cards c JOIN hook_invocations h ON h.id = c.hook_invocation_id
        WHERE c.uuid = ANY($1::uuid[]) AND c.service_id = $2 AND h.client_id = $3`,
      [[...new Set(uuids)], serviceId, clientId],
    );
    return new Set(known.map((c) => c.uuid));
  }

  /** The suggestion uuids (lowercase) each of these cards carried. */
  async suggestionsOfCards(cardUuids: ReadonlyArray<string>): Promise<Map<string, Set<string>>> {
    const rows: Array<{ uuid: string; card_uuid: string }> = await this.dataSource.query(
      `SELECT uuid, card_uuid FROM cds_card_suggestions WHERE card_uuid = ANY($1::uuid[])`,
      [[...new Set(cardUuids)]],
    );
    const out = new Map<string, Set<string>>();
    for (const r of rows) {
      const set = out.get(r.card_uuid) ?? new Set<string>();
      set.add(r.uuid.toLowerCase());
      out.set(r.card_uuid, set);
    }
    return out;
  }

  /** Every feedback report on one card, oldest outcome first (the compliance card explanation). */
  feedbackOn(cardUuid: string): Promise<CardFeedbackEntry[]> {
    return this.dataSource.query(
      `SELECT outcome, outcome_at AS "outcomeAt", override_reason AS "overrideReason", client_id AS "clientId"
         FROM feedback WHERE card_uuid = $1 ORDER BY outcome_at`,
      [cardUuid],
    );
  }

  /**
   * Governance: per service and suggestion kind, how many suggestions cards carried and how many of them
   * clinicians accepted (distinct suggestions, whatever the number of feedback repeats), for cards returned in
   * `[from, to)`; both bounds optional.
   */
  async suggestionAcceptanceByKind(
    range: { from?: Date; to?: Date; serviceId?: string } = {},
  ): Promise<SuggestionAcceptance[]> {
    const rows: Array<{ service_id: string; kind: string; offered: string; accepted: string }> =
      await this.dataSource.query(
        `SELECT s.service_id, s.kind, count(*) AS offered,
                count(*) FILTER (WHERE EXISTS (
                  SELECT 1 FROM feedback f
                   WHERE f.card_uuid = s.card_uuid AND f.outcome = 'accepted'
                     AND f.accepted_suggestions @> jsonb_build_array(jsonb_build_object('id', s.uuid::text))
                )) AS accepted
           FROM cds_card_suggestions s
          WHERE ($1::timestamptz IS NULL OR s.created_at >= $1)
            AND ($2::timestamptz IS NULL OR s.created_at < $2)
            AND ($3::text IS NULL OR s.service_id = $3)
          GROUP BY s.service_id, s.kind
          ORDER BY s.service_id, s.kind`,
        [range.from ?? null, range.to ?? null, range.serviceId ?? null],
      );
    return rows.map((r) => ({
      serviceId: r.service_id,
      kind: r.kind,
      offered: Number(r.offered),
      accepted: Number(r.accepted),
    }));
  }

  /** Stores each item once, in one transaction; returns per item whether it was a repeat (already stored). */
  storeFeedback(rows: ReadonlyArray<NewFeedback>): Promise<boolean[]> {
    return this.dataSource.transaction(async (tx) => {
      const repeats: boolean[] = [];
      for (const row of rows) {
        const inserted = await tx
          .createQueryBuilder()
          .insert()
          .into(FeedbackEntity)
          .values(row)
          .orIgnore()
          .returning(['id'])
          .execute();
        repeats.push(Array.isArray(inserted.raw) && inserted.raw.length === 0);
      }
      return repeats;
    });
  }
}
