import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Cards on record (so feedback can be checked), idempotent feedback, and result reuse by prompt hash. */
export class CardsFeedbackReuse1764100000000 implements MigrationInterface {
  name = 'CardsFeedbackReuse1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hook_invocations ADD COLUMN inference_request_id uuid, ADD COLUMN client_id text`);
    await q.query(`
      CREATE TABLE cds_cards (
        uuid uuid PRIMARY KEY,
        hook_invocation_id uuid NOT NULL REFERENCES hook_invocations (id),
        inference_request_id uuid REFERENCES inference_requests (request_id),
        service_id text NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX ix_cds_cards_hook_invocation ON cds_cards (hook_invocation_id)`);
    await q.query(`ALTER TABLE feedback ADD COLUMN accepted_suggestions jsonb, ADD COLUMN client_id text`);
    await q.query(
      `ALTER TABLE feedback ADD CONSTRAINT fk_feedback_card FOREIGN KEY (card_uuid) REFERENCES cds_cards (uuid)`,
    );
    await q.query(
      `ALTER TABLE feedback ADD CONSTRAINT uq_feedback_card_outcome UNIQUE (card_uuid, outcome, outcome_at)`,
    );
    await q.query(
      `CREATE INDEX ix_inference_requests_reuse ON inference_requests (prompt_hash, model, created_at DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_inference_requests_reuse`);
    await q.query(`ALTER TABLE feedback DROP CONSTRAINT uq_feedback_card_outcome, DROP CONSTRAINT fk_feedback_card`);
    await q.query(`ALTER TABLE feedback DROP COLUMN accepted_suggestions, DROP COLUMN client_id`);
    await q.query(`DROP TABLE cds_cards`);
    await q.query(`ALTER TABLE hook_invocations DROP COLUMN inference_request_id, DROP COLUMN client_id`);
  }
}
