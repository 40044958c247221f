import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type HookInvocationStatus = 'received' | 'answered' | 'answered_empty' | 'refused' | 'failed';

/** One CDS Hooks call as received by cds-hooks. */
@Entity({ name: 'hook_invocations' })
@Index('ix_hook_invocations_hook_instance', ['hookInstance'])
@Index('ix_hook_invocations_received_at', ['receivedAt'])
export class HookInvocationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'hook_instance', type: 'uuid' })
  hookInstance!: string;

  @Column({ type: 'text' })
  hook!: string;

  @Column({ name: 'service_id', type: 'text' })
  serviceId!: string;

  @Column({ name: 'request_id', type: 'text' })
  requestId!: string;

  /** The inference whose result answered this call (possibly one started by an earlier call for the same context). */
  @Column({ name: 'inference_request_id', type: 'uuid', nullable: true })
  inferenceRequestId!: string | null;

  @Column({ name: 'client_id', type: 'text', nullable: true })
  clientId!: string | null;

  @Column({ name: 'patient_ref', type: 'text', nullable: true })
  patientRef!: string | null;

  @Column({ type: 'text' })
  status!: HookInvocationStatus;

  @Column({ name: 'cards_returned', type: 'integer', nullable: true })
  cardsReturned!: number | null;

  /** Why findings were dropped or changed on the way to cards (grounding, policy, shadow mode). */
  @Column({ name: 'answer_detail', type: 'jsonb', nullable: true })
  answerDetail!: Record<string, unknown> | null;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  @Column({ name: 'answered_at', type: 'timestamptz', nullable: true })
  answeredAt!: Date | null;
}
