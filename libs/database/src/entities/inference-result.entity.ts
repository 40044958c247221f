import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { InferenceOutcome } from '@app/contracts';

/** What the model answered (or why it did not). One row per request id: redeliveries never add a second. */
@Entity({ name: 'inference_results' })
export class InferenceResultEntity {
  @PrimaryColumn({ name: 'request_id', type: 'uuid' })
  requestId!: string;

  @Column({ type: 'text' })
  outcome!: InferenceOutcome;

  @Column({ type: 'text', nullable: true })
  backend!: string | null;

  @Column({ name: 'output_text', type: 'text', nullable: true })
  outputText!: string | null;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode!: string | null;

  @Column({ name: 'tokens_in', type: 'integer', nullable: true })
  tokensIn!: number | null;

  @Column({ name: 'tokens_out', type: 'integer', nullable: true })
  tokensOut!: number | null;

  @Column({ name: 'latency_ms', type: 'integer' })
  latencyMs!: number;

  @Column({ name: 'completed_at', type: 'timestamptz' })
  completedAt!: Date;

  // Who asked and what ran (migration 1764310000000); null on rows older than those columns.
  @Column({ name: 'hook_instance', type: 'uuid', nullable: true })
  hookInstance!: string | null;

  @Column({ type: 'text', nullable: true })
  model!: string | null;

  @Column({ name: 'template_version', type: 'text', nullable: true })
  templateVersion!: string | null;

  @Column({ name: 'prompt_hash', type: 'char', length: 64, nullable: true })
  promptHash!: string | null;

  @Column({ type: 'smallint', nullable: true })
  attempts!: number | null;

  @Column({ name: 'served_from', type: 'text', nullable: true })
  servedFrom!: string | null;
}
