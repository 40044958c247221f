import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Makes each `inference_results` row a complete record of the inference (issue 5): who asked (hook
 * instance), what ran (model, template version, prompt hash), how (backend calls made, and whether the
 * answer came from a backend, the cache or a coalesced identical request). Nullable: older rows lack them.
 */
export class InferenceRecordColumns1764310000000 implements MigrationInterface {
  name = 'InferenceRecordColumns1764310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE inference_results
        ADD COLUMN hook_instance uuid,
        ADD COLUMN model text,
        ADD COLUMN template_version text,
        ADD COLUMN prompt_hash char(64),
        ADD COLUMN attempts smallint,
        ADD COLUMN served_from text`);
    await q.query(`CREATE INDEX ix_inference_results_completed_at ON inference_results (completed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_inference_results_completed_at`);
    await q.query(`
      ALTER TABLE inference_results
        DROP COLUMN served_from,
        DROP COLUMN attempts,
        DROP COLUMN prompt_hash,
        DROP COLUMN template_version,
        DROP COLUMN model,
        DROP COLUMN hook_instance`);
  }
}
