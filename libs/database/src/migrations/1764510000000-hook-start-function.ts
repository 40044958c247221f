import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLES } from '../roles/runtime-roles';

/**
 * `hook_start(...)` (issue 17): what a hook call's dispatch did in two round trips (its `hook_invocations` row with
 * the look-up of recent requests for its prompt, then `inference_queue`), as one statement, its own transaction:
 *
 * 1. the call's row, unless it is stored already (`p_store_call` false: a prewarm or a repair of a call);
 * 2. with a reuse window (`p_reuse_since`), the newest `p_reuse_take` requests for the same model, template and
 *    prompt created after it, newest first: the first completed with a good (`ok`) result serves the call (kind
 *    `result`, the result row as jsonb), else the first still queued or running whose deadline is after
 *    `p_received_at` is waited for (`pending`); a completed one without a good result, or one past its deadline, is
 *    passed over. A request found that is this call's own (`p_request_id`: an earlier attempt of this statement
 *    committed, its acknowledgement was lost) counts as `created`, so the caller publishes it;
 * 3. otherwise `inference_queue(...)` itself (migration 1764500000000), unchanged: the per-prompt advisory lock, the
 *    look-up of a live request under it (`joined`) or the request and its outbox message (`created`). Calling the
 *    function, not a copy of it, keeps the lock key and the join rule one definition, so replicas still running the
 *    two-round-trip code and this one interlock during a rolling deploy. VOLATILE, so each query takes a fresh
 *    snapshot: the look-up under the lock sees what the lock's previous holder committed.
 *
 * The advisory lock is held from step 3 to the commit, as before; the call's row (step 1) is this transaction's own
 * and no other call touches it. Invoker's rights: the caller needs its INSERT rights on the three tables; EXECUTE is
 * cds-hooks' alone (revoked from PUBLIC), with a fixed search_path. `prompt_hash` is compared as char(64), so the
 * reuse index seeks on it (see 1764500000000).
 */
export class HookStartFunction1764510000000 implements MigrationInterface {
  name = 'HookStartFunction1764510000000';

  async up(q: QueryRunner): Promise<void> {
    const schema = ((await q.query(`SELECT current_schema() AS s`)) as [{ s: string }])[0].s;
    await q.query(`
      CREATE FUNCTION hook_start(
        p_store_call boolean, p_invocation_id uuid, p_hook_instance uuid, p_hook text, p_service_id text,
        p_call_request_id text, p_client_id text, p_patient_ref text, p_received_at timestamptz,
        p_model text, p_template_version text, p_prompt_hash text, p_reuse_since timestamptz, p_reuse_take integer,
        p_request_id uuid, p_priority smallint, p_deadline_at timestamptz, p_context_manifest jsonb,
        p_created_at timestamptz, p_message jsonb, p_first_relay_at timestamptz, p_join_since timestamptz)
      RETURNS TABLE (kind text, request_id uuid, deadline_at timestamptz, result jsonb)
      LANGUAGE plpgsql VOLATILE SET search_path = ${schema}, pg_temp AS $$
      DECLARE
        c record;
      BEGIN
        IF p_store_call THEN
          INSERT INTO hook_invocations
              (id, hook_instance, hook, service_id, request_id, client_id, patient_ref, received_at, status)
            VALUES (p_invocation_id, p_hook_instance, p_hook, p_service_id, p_call_request_id, p_client_id,
                    p_patient_ref, p_received_at, 'received')
            ON CONFLICT (id) DO NOTHING;
        END IF;
        IF p_reuse_since IS NOT NULL THEN
          FOR c IN
            SELECT r.request_id AS id, r.status, r.deadline_at AS deadline,
                   CASE WHEN res.request_id IS NULL THEN NULL ELSE to_jsonb(res) END AS good
              FROM inference_requests r
              LEFT JOIN inference_results res
                ON res.request_id = r.request_id AND r.status = 'completed' AND res.outcome = 'ok'
             WHERE r.model = p_model AND r.prompt_hash = p_prompt_hash::char(64)
               AND r.template_version = p_template_version
               AND r.status IN ('queued', 'running', 'completed') AND r.created_at > p_reuse_since
             ORDER BY r.created_at DESC LIMIT p_reuse_take
          LOOP
            IF c.id = p_request_id THEN
              RETURN QUERY SELECT 'created'::text, c.id, c.deadline, NULL::jsonb;
              RETURN;
            ELSIF c.status = 'completed' THEN
              IF c.good IS NOT NULL THEN
                RETURN QUERY SELECT 'result'::text, c.id, c.deadline, c.good;
                RETURN;
              END IF;
            ELSIF c.deadline > p_received_at THEN
              RETURN QUERY SELECT 'pending'::text, c.id, c.deadline, NULL::jsonb;
              RETURN;
            END IF;
          END LOOP;
        END IF;
        RETURN QUERY
          SELECT CASE WHEN x.created THEN 'created' ELSE 'joined' END, x.found_request_id, x.found_deadline_at,
                 NULL::jsonb
            FROM inference_queue(p_request_id, p_invocation_id, p_model, p_template_version, p_prompt_hash,
                                 p_priority, p_deadline_at, p_context_manifest, p_created_at, p_message,
                                 p_first_relay_at, p_join_since) x;
      END $$`);
    await q.query(`REVOKE EXECUTE ON FUNCTION ${SIGNATURE} FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION ${SIGNATURE} TO ${RUNTIME_ROLES.cdsHooks}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION ${SIGNATURE}`);
  }
}

const SIGNATURE =
  'hook_start(boolean, uuid, uuid, text, text, text, text, text, timestamptz, text, text, text, timestamptz, ' +
  'integer, uuid, smallint, timestamptz, jsonb, timestamptz, jsonb, timestamptz, timestamptz)';
