import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764090000000 implements MigrationInterface {
  name = 'InitialSchema1764090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE hook_invocations (
        id uuid PRIMARY KEY,
        hook_instance uuid NOT NULL,
        hook text NOT NULL,
        service_id text NOT NULL,
        request_id text NOT NULL,
        patient_ref text,
        status text NOT NULL,
        cards_returned integer,
        received_at timestamptz NOT NULL,
        answered_at timestamptz
      )`);
    await q.query(`CREATE INDEX ix_hook_invocations_hook_instance ON hook_invocations (hook_instance)`);
    await q.query(`CREATE INDEX ix_hook_invocations_received_at ON hook_invocations (received_at)`);

    await q.query(`
      CREATE TABLE inference_requests (
        request_id uuid PRIMARY KEY,
        hook_invocation_id uuid NOT NULL REFERENCES hook_invocations (id),
        model text NOT NULL,
        template_version text NOT NULL,
        prompt_hash char(64) NOT NULL,
        priority smallint NOT NULL,
        status text NOT NULL,
        deadline_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX ix_inference_requests_hook_invocation ON inference_requests (hook_invocation_id)`);

    await q.query(`
      CREATE TABLE inference_results (
        request_id uuid PRIMARY KEY REFERENCES inference_requests (request_id),
        outcome text NOT NULL,
        backend text,
        output_text text,
        error_code text,
        tokens_in integer,
        tokens_out integer,
        latency_ms integer NOT NULL,
        completed_at timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE feedback (
        id uuid PRIMARY KEY,
        service_id text NOT NULL,
        card_uuid uuid NOT NULL,
        outcome text NOT NULL,
        override_reason jsonb,
        outcome_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX ix_feedback_card ON feedback (card_uuid)`);

    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        recorded_at timestamptz NOT NULL,
        action text NOT NULL,
        outcome text NOT NULL,
        service text NOT NULL,
        actor text,
        client_id text,
        tenant text,
        patient_ref text,
        request_id text,
        hook_instance uuid,
        detail jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(`CREATE INDEX ix_audit_events_recorded_at ON audit_events (recorded_at)`);
    await q.query(`CREATE INDEX ix_audit_events_patient ON audit_events (patient_ref, recorded_at)`);
    await q.query(`CREATE INDEX ix_audit_events_request ON audit_events (request_id)`);
    // Append-only: the database itself refuses to rewrite history.
    await q.query(`
      CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_refuse_change`);
    await q.query(`DROP TABLE feedback`);
    await q.query(`DROP TABLE inference_results`);
    await q.query(`DROP TABLE inference_requests`);
    await q.query(`DROP TABLE hook_invocations`);
  }
}
