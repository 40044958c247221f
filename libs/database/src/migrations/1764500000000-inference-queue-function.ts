import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLES } from '../roles/runtime-roles';

/**
 * `inference_queue(...)`: what `InferenceOutboxRepository.queue` did in a five-round-trip transaction (BEGIN, the
 * per-prompt advisory lock, the look-up of a live request for the same prompt, the request and outbox INSERT,
 * COMMIT), as one statement. The function is VOLATILE, so each of its queries takes a fresh snapshot: the look-up
 * runs after the lock is granted and sees what the lock's previous holder committed, exactly as the transaction's
 * next statement did (a single SQL statement with the lock in a CTE would not: its snapshot predates the lock). The
 * lock key is the same text as before, so a replica running the old code and one running this one still interlock.
 * A request found that is this call's own (its commit acknowledgement was lost and the statement retried) counts as
 * created. Invoker's rights: a role uses it only with its own INSERT rights on both tables; EXECUTE is cds-hooks'
 * alone (revoked from PUBLIC, like the other functions), with a fixed search_path.
 * `prompt_hash` is char(64): the text parameter is cast to it, or the comparison is made in text and the reuse index
 * (prompt_hash, model, created_at) cannot seek on its first column (the look-up then scanned every request of the
 * model in the window: 80-90 ms per call after ten minutes at 50 hooks/s in the soak).
 */
export class InferenceQueueFunction1764500000000 implements MigrationInterface {
  name = 'InferenceQueueFunction1764500000000';

  async up(q: QueryRunner): Promise<void> {
    const schema = ((await q.query(`SELECT current_schema() AS s`)) as [{ s: string }])[0].s;
    await q.query(`
      CREATE FUNCTION inference_queue(
        p_request_id uuid, p_hook_invocation_id uuid, p_model text, p_template_version text, p_prompt_hash text,
        p_priority smallint, p_deadline_at timestamptz, p_context_manifest jsonb, p_created_at timestamptz,
        p_message jsonb, p_first_relay_at timestamptz, p_join_since timestamptz)
      RETURNS TABLE (created boolean, found_request_id uuid, found_deadline_at timestamptz)
      LANGUAGE plpgsql VOLATILE SET search_path = ${schema}, pg_temp AS $$
      BEGIN
        IF p_join_since IS NOT NULL THEN
          PERFORM pg_advisory_xact_lock(hashtextextended(p_model || '|' || p_template_version || '|' || p_prompt_hash, 0));
          RETURN QUERY
            SELECT r.request_id = p_request_id, r.request_id, r.deadline_at FROM inference_requests r
             WHERE r.model = p_model AND r.prompt_hash = p_prompt_hash::char(64) AND r.template_version = p_template_version
               AND (r.status = 'completed' OR (r.status IN ('queued', 'running') AND r.deadline_at > now()))
               AND r.created_at > p_join_since
             ORDER BY r.created_at DESC LIMIT 1;
          IF FOUND THEN
            RETURN;
          END IF;
        END IF;
        INSERT INTO inference_requests (request_id, hook_invocation_id, model, template_version, prompt_hash, priority,
                                        status, deadline_at, context_manifest, created_at)
          VALUES (p_request_id, p_hook_invocation_id, p_model, p_template_version, p_prompt_hash, p_priority,
                  'queued', p_deadline_at, p_context_manifest, p_created_at);
        INSERT INTO inference_outbox (request_id, message, next_attempt_at)
          VALUES (p_request_id, p_message, p_first_relay_at);
        RETURN QUERY SELECT true, p_request_id, p_deadline_at;
      END $$`);
    const signature =
      'inference_queue(uuid, uuid, text, text, text, smallint, timestamptz, jsonb, timestamptz, jsonb, timestamptz, timestamptz)';
    await q.query(`REVOKE EXECUTE ON FUNCTION ${signature} FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION ${signature} TO ${RUNTIME_ROLES.cdsHooks}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION inference_queue`);
  }
}
