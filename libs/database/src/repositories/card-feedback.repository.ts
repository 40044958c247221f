import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FeedbackEntity } from '../entities/feedback.entity';

export type NewFeedback = FeedbackEntity;

/** Cards we returned (`cds_cards`) and the feedback EHRs send on them (`feedback`). */
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
