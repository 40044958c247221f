import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The context every backend of the pool accepts, per served model: the proxy learns it from the servers
 * (vLLM `/v1/models`, TGI `/info`) and publishes it here so cds-hooks can budget prompts to it.
 */
export class ModelPoolLimits1764400300000 implements MigrationInterface {
  name = 'ModelPoolLimits1764400300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE model_pool_limits (
        model text PRIMARY KEY,
        context_tokens integer NOT NULL CHECK (context_tokens > 0),
        backends_reporting integer NOT NULL CHECK (backends_reporting >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE model_pool_limits`);
  }
}
