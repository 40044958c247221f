import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What each prompt held, by handle, and what the token budget left out: grounding and provenance read it. */
export class PromptManifest1764350000000 implements MigrationInterface {
  name = 'PromptManifest1764350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inference_requests ADD COLUMN context_manifest jsonb`);
    await q.query(`ALTER TABLE hook_invocations ADD COLUMN answer_detail jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hook_invocations DROP COLUMN answer_detail`);
    await q.query(`ALTER TABLE inference_requests DROP COLUMN context_manifest`);
  }
}
