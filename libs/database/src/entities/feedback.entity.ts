import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export interface OverrideReason {
  reason?: { code: string; system?: string; display?: string };
  userComment?: string;
}

/** CDS Hooks feedback on a card (accepted / overridden, with the clinician's reason). */
@Entity({ name: 'feedback' })
@Index('ix_feedback_card', ['cardUuid'])
export class FeedbackEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'service_id', type: 'text' })
  serviceId!: string;

  @Column({ name: 'card_uuid', type: 'uuid' })
  cardUuid!: string;

  @Column({ type: 'text' })
  outcome!: string;

  @Column({ name: 'override_reason', type: 'jsonb', nullable: true })
  overrideReason!: OverrideReason | null;

  @Column({ name: 'accepted_suggestions', type: 'jsonb', nullable: true })
  acceptedSuggestions!: Array<{ id: string }> | null;

  @Column({ name: 'client_id', type: 'text', nullable: true })
  clientId!: string | null;

  @Column({ name: 'outcome_at', type: 'timestamptz' })
  outcomeAt!: Date;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;
}
