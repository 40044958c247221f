import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The governance dashboard and card explanations (issue 16): each card keeps its indicator and its content as the EHR
 * received it (older rows stay null), and the period scans the dashboard makes are served by indexes that hold the
 * columns they aggregate, so a 90-day view is an index-only scan rather than a heap walk.
 */
export class GovernanceDashboard1764490000000 implements MigrationInterface {
  name = 'GovernanceDashboard1764490000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cds_cards ADD COLUMN indicator text, ADD COLUMN content jsonb`);
    await q.query(
      `CREATE INDEX ix_cds_cards_created_at ON cds_cards (created_at) INCLUDE (service_id, indicator)`,
    );
    await q.query(
      `CREATE INDEX ix_hook_invocations_dashboard ON hook_invocations (received_at)
         INCLUDE (service_id, client_id, status, answered_at, inference_request_id)`,
    );
    await q.query(`CREATE INDEX ix_feedback_outcome_at ON feedback (outcome_at) INCLUDE (service_id, outcome)`);
    await q.query(
      `CREATE INDEX ix_inference_results_dashboard ON inference_results (completed_at) INCLUDE (latency_ms, outcome, served_from)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_inference_results_dashboard`);
    await q.query(`DROP INDEX ix_feedback_outcome_at`);
    await q.query(`DROP INDEX ix_hook_invocations_dashboard`);
    await q.query(`DROP INDEX ix_cds_cards_created_at`);
    await q.query(`ALTER TABLE cds_cards DROP COLUMN content, DROP COLUMN indicator`);
  }
}
