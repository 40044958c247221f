import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A suggestion a card carried: feedback may accept only these, and governance counts acceptance per kind. Kept
 * without its label or resources (they name the patient's orders): the kind and the configured code only.
 */
@Entity({ name: 'cds_card_suggestions' })
@Index('ix_cds_card_suggestions_card', ['cardUuid'])
export class CardSuggestionEntity {
  @PrimaryColumn({ type: 'uuid' })
  uuid!: string;

  @Column({ name: 'card_uuid', type: 'uuid' })
  cardUuid!: string;

  @Column({ name: 'service_id', type: 'text' })
  serviceId!: string;

  /** `remove-draft`, `replace-draft` or `order-lab`. */
  @Column({ type: 'text' })
  kind!: string;

  /** `system|code` of the formulary or lab panel item; null for a removal. */
  @Column({ type: 'text', nullable: true })
  code!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
