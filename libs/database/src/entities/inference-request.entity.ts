import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type InferenceRequestStatus = 'queued' | 'running' | 'completed' | 'failed' | 'expired';

/** An inference cds-hooks asked for; written before the request is published, so nothing is in flight unrecorded. */
@Entity({ name: 'inference_requests' })
@Index('ix_inference_requests_hook_invocation', ['hookInvocationId'])
export class InferenceRequestEntity {
  @PrimaryColumn({ name: 'request_id', type: 'uuid' })
  requestId!: string;

  @Column({ name: 'hook_invocation_id', type: 'uuid' })
  hookInvocationId!: string;

  @Column({ type: 'text' })
  model!: string;

  @Column({ name: 'template_version', type: 'text' })
  templateVersion!: string;

  @Column({ name: 'prompt_hash', type: 'char', length: 64 })
  promptHash!: string;

  @Column({ type: 'smallint' })
  priority!: number;

  @Column({ type: 'text' })
  status!: InferenceRequestStatus;

  @Column({ name: 'deadline_at', type: 'timestamptz' })
  deadlineAt!: Date;

  /** The prompt's manifest (handles -> resource references, what was left out); never sent anywhere. */
  @Column({ name: 'context_manifest', type: 'jsonb', nullable: true })
  contextManifest!: Record<string, unknown> | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
