import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLES } from '../roles/runtime-roles';

/**
 * `jwt_replay_claim(hash, expires)`: the gateway's replay claim (PgReplayGuard.claim) as one function call whose
 * transaction commits asynchronously (`synchronous_commit` off for that transaction only: `set_config(..., true)`).
 * The claim is visible to every replica the moment it commits, as before; what changes is that the gateway no longer
 * waits for the WAL flush (on a loaded shared disk most of the claim's time). What that costs, against the replay
 * threat (README, "What is durable when"): after a Postgres crash, claims committed in the last moments before it
 * (at most three `wal_writer_delay`s, 600 ms by default) can be forgotten, so a token used in that window could be
 * accepted once more after recovery, within its lifetime. A later synchronous commit on the same cluster flushes the
 * claim with it (the WAL is flushed in order), and a forwarded hook's own writes (its invocation row, audit events,
 * inference request) normally commit synchronously after the claim: what a crash can lose is, in practice, the claim
 * of a call that had not yet written anything, and on a failover what an asynchronous standby had not received (as
 * for any commit; with synchronous standbys the claim no longer waits for them either). An UNLOGGED table was
 * rejected: a crash empties it and standbys never see it, so every token still within its lifetime (up to
 * JWT_MAX_LIFETIME_S) would be replayable after a crash or a failover. plpgsql also keeps the INSERT's plan per
 * session.
 * Invoker's rights (the gateway's own INSERT and UPDATE on jwt_replay); EXECUTE is the gateway's alone (revoked from
 * PUBLIC), with a fixed search_path.
 */
export class JwtReplayClaim1764530000000 implements MigrationInterface {
  name = 'JwtReplayClaim1764530000000';

  async up(q: QueryRunner): Promise<void> {
    const schema = ((await q.query(`SELECT current_schema() AS s`)) as [{ s: string }])[0].s;
    await q.query(`
      CREATE FUNCTION jwt_replay_claim(p_jti_hash text, p_expires_at timestamptz) RETURNS boolean
      LANGUAGE plpgsql VOLATILE SET search_path = ${schema}, pg_temp AS $$
      BEGIN
        PERFORM set_config('synchronous_commit', 'off', true);
        INSERT INTO jwt_replay (jti_hash, expires_at) VALUES (p_jti_hash::char(64), p_expires_at)
          ON CONFLICT (jti_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE jwt_replay.expires_at < now();
        RETURN FOUND;
      END $$`);
    await q.query(`REVOKE EXECUTE ON FUNCTION jwt_replay_claim(text, timestamptz) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION jwt_replay_claim(text, timestamptz) TO ${RUNTIME_ROLES.gateway}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION jwt_replay_claim(text, timestamptz)`);
  }
}
