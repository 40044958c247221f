import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { CdsCardEntity } from '../entities/cds-card.entity';
import { FeedbackEntity } from '../entities/feedback.entity';

export type NewFeedback = FeedbackEntity;

/** Cards we returned (`cds_cards`) and the feedback EHRs send on them (`feedback`). */
@Injectable()
export class CardFeedbackRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Which of these card ids this service returned. */
  async knownCards(serviceId: string, uuids: ReadonlyArray<string>): Promise<Set<string>> {
    const known = await this.dataSource
      .getRepository(CdsCardEntity)
      .findBy({ uuid: In([...new Set(uuids)]), serviceId });
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
