import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLES } from '../roles/runtime-roles';

/** One outcome per answered call; a failed repair counts as invalid, a successful one as repaired. */
const ANSWER_OUTCOME = `CASE
  WHEN answer_detail IS NULL THEN NULL
  WHEN answer_detail->>'result' = 'expired' THEN 'expired'
  WHEN answer_detail->>'result' = 'error' THEN 'backend_error'
  WHEN answer_detail->>'result' = 'pending' THEN 'pending'
  WHEN answer_detail->>'output' IN ('not_json', 'schema_mismatch') THEN 'invalid'
  WHEN answer_detail->>'repair' = 'succeeded' THEN 'repaired'
  WHEN answer_detail->>'output' = 'valid' THEN 'valid'
  ELSE 'other' END`;

/** Findings the grounding check dropped for one reason (see @app/prompts groundFindings). */
function droppedFor(reason: string): string {
  return `coalesce(jsonb_array_length(jsonb_path_query_array(answer_detail, '$.dropped[*] ? (@.reason == "${reason}")')), 0)`;
}

/**
 * The governance dashboard and card explanations (issue 16): each card keeps its indicator and its content as the EHR
 * received it (older rows stay null); each hook call's answer is classified once, in generated columns computed from
 * the answer detail cds-hooks already writes; and closed hours are rolled up into `governance_hourly` and closed days into
 * `governance_daily`, so a 90-day view reads the days, the hours at its edges, and at most two partial hours live.
 * No covering index on `hook_invocations`: one holding `status` would make every answer's UPDATE a non-HOT update on
 * the hook path, and the rollup reads one hour at a time.
 */
export class GovernanceDashboard1764490000000 implements MigrationInterface {
  name = 'GovernanceDashboard1764490000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cds_cards ADD COLUMN indicator text, ADD COLUMN content jsonb`);
    await q.query(`CREATE INDEX ix_cds_cards_created_at ON cds_cards (created_at) INCLUDE (service_id, indicator)`);
    await q.query(`
      ALTER TABLE hook_invocations
        ADD COLUMN answer_outcome text GENERATED ALWAYS AS (${ANSWER_OUTCOME}) STORED,
        ADD COLUMN dropped_uncited integer GENERATED ALWAYS AS (${droppedFor('no_citation')}) STORED,
        ADD COLUMN dropped_unknown_ref integer GENERATED ALWAYS AS (${droppedFor('unknown_reference')}) STORED,
        ADD COLUMN critical_lowered integer
          GENERATED ALWAYS AS (coalesce((answer_detail->>'downgradedCritical')::integer, 0)) STORED,
        ADD COLUMN shadow_cards integer
          GENERATED ALWAYS AS (CASE WHEN answer_detail->>'shadow' = 'true'
            THEN coalesce((answer_detail->>'shadowCards')::integer, 0) END) STORED`);
    // The latest cards shadow-mode services withheld: a small index over the shadow answers only.
    await q.query(
      `CREATE INDEX ix_hook_invocations_shadow ON hook_invocations (received_at) INCLUDE (service_id)
         WHERE shadow_cards > 0`,
    );
    await q.query(
      `CREATE INDEX ix_hook_invocations_shadow_service ON hook_invocations (service_id, received_at)
         WHERE shadow_cards > 0`,
    );
    await q.query(`CREATE INDEX ix_feedback_received_at ON feedback (received_at)`);
    // Hourly figures per service, rolled up by the gateway once an hour has closed (see compliance/dashboard).
    await q.query(`
      CREATE TABLE governance_hourly (
        hour timestamptz NOT NULL,
        service_id text NOT NULL,
        metric text NOT NULL,
        label text NOT NULL,
        n bigint NOT NULL,
        CONSTRAINT pk_governance_hourly PRIMARY KEY (hour, service_id, metric, label)
      )`);
    // The same per day, summed from the hours once a day has been rolled up: a 90-day view reads these.
    await q.query(`
      CREATE TABLE governance_daily (
        day timestamptz NOT NULL,
        service_id text NOT NULL,
        metric text NOT NULL,
        label text NOT NULL,
        n bigint NOT NULL,
        CONSTRAINT pk_governance_daily PRIMARY KEY (day, service_id, metric, label)
      )`);
    await q.query(`
      CREATE TABLE governance_rollup_state (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        rolled_through timestamptz,
        days_through timestamptz
      )`);
    await q.query(`INSERT INTO governance_rollup_state (rolled_through) VALUES (NULL)`);
    // The gateway rolls up and reads the dashboard; no other app touches these tables.
    await q.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON governance_hourly, governance_daily, governance_rollup_state TO ${RUNTIME_ROLES.gateway}`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE governance_rollup_state`);
    await q.query(`DROP TABLE governance_daily`);
    await q.query(`DROP TABLE governance_hourly`);
    await q.query(`DROP INDEX ix_feedback_received_at`);
    await q.query(`DROP INDEX ix_hook_invocations_shadow_service`);
    await q.query(`DROP INDEX ix_hook_invocations_shadow`);
    await q.query(`
      ALTER TABLE hook_invocations DROP COLUMN shadow_cards, DROP COLUMN critical_lowered,
        DROP COLUMN dropped_unknown_ref, DROP COLUMN dropped_uncited, DROP COLUMN answer_outcome`);
    await q.query(`DROP INDEX ix_cds_cards_created_at`);
    await q.query(`ALTER TABLE cds_cards DROP COLUMN content, DROP COLUMN indicator`);
  }
}
