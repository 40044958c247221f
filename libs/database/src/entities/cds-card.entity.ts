import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A card we returned: feedback must name one of these. The card's content lives in the inference result. */
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

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
