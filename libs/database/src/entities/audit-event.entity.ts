import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type AuditOutcome = 'success' | 'failure' | 'refused';

/** Flat identifiers, hashes and counts only. */
export type AuditDetail = Record<string, string | number | boolean | null>;

/**
 * Append-only audit trail row. Detail holds identifiers and hashes, never clinical free text.
 * `id`, `prevHash` and `hash` are set by the database's chain trigger (libs/database migrations, issue 6).
 */
@Entity({ name: 'audit_events' })
@Index('ix_audit_events_recorded_at', ['recordedAt'])
@Index('ix_audit_events_patient', ['patientRef', 'recordedAt'])
@Index('ix_audit_events_request', ['requestId'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;

  @Column({ type: 'text' })
  action!: string;

  @Column({ type: 'text' })
  outcome!: AuditOutcome;

  @Column({ type: 'text' })
  service!: string;

  @Column({ type: 'text', nullable: true })
  actor!: string | null;

  @Column({ name: 'client_id', type: 'text', nullable: true })
  clientId!: string | null;

  @Column({ type: 'text', nullable: true })
  tenant!: string | null;

  @Column({ name: 'patient_ref', type: 'text', nullable: true })
  patientRef!: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  @Column({ name: 'hook_instance', type: 'uuid', nullable: true })
  hookInstance!: string | null;

  @Column({ type: 'jsonb' })
  detail!: AuditDetail;

  /** Made by the writer: a replayed or retried event is stored once (issue 18). Not part of the hash. */
  @Column({ name: 'event_id', type: 'uuid', nullable: true })
  eventId!: string | null;

  @Column({ name: 'prev_hash', type: 'char', length: 64, insert: false, update: false })
  prevHash!: string;

  @Column({ type: 'char', length: 64, insert: false, update: false })
  hash!: string;
}
