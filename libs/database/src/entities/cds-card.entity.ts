import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A card we returned: feedback must name one of these. Its content is kept as sent, for the compliance explanation. */
@Entity({ name: 'cds_cards' })
@Index('ix_cds_cards_hook_invocation', ['hookInvocationId'])
export class CdsCardEntity {
  @PrimaryColumn({ type: 'uuid' })
  uuid!: string;

  @Column({ name: 'hook_invocation_id', type: 'uuid' })
  hookInvocationId!: string;

  @Column({ name: 'inference_request_id', type: 'uuid', nullable: true })
  inferenceRequestId!: string | null;

  @Column({ name: 'service_id', type: 'text' })
  serviceId!: string;

  /** `info` / `warning` / `critical`; null on cards stored before the column. */
  @Column({ type: 'text', nullable: true })
  indicator!: string | null;

  /** The card as the EHR received it; null on cards stored before the column. */
  @Column({ type: 'jsonb', nullable: true })
  content!: Record<string, unknown> | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
