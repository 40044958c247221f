import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLES } from '../roles/runtime-roles';

/** The writers' queue key of the chain trigger (1764540000000): "AUDC", 1. */
const AUDIT_CHAIN_LOCK = `${0x41554443}, 1`;

/** The columns an audit event is written with (the chain trigger adds id, prev_hash and hash). */
const COLUMNS =
  'event_id, recorded_at, action, outcome, service, actor, client_id, tenant, patient_ref, request_id, hook_instance, detail';

/**
 * The audit inbox (issue 17): business transactions stop taking the chain's lock.
 *
 * Before: the inference proxy's result store wrote each result's `inference.completed` event into `audit_events` in
 * the same statement, so the result transaction went through the chain trigger and held the chain's writer lock
 * (and the head row) until it committed. Every result store queued behind every audit batch of every app. After a
 * database stall at 50 hooks/s on a slow host (bench/memory-probe.ts --db-stall=60:40) that queue did not drain: the
 * proxy's result write backlog stayed at its bound in `Lock:advisory`, the waiting transactions kept the head row's
 * old versions from being pruned (550–1,006 dead versions against 145–205 in runs that recovered), so each chained
 * insert grew slower, and every hook was answered `{"cards": []}` until the load dropped.
 *
 * After: the result store writes its events into `audit_inbox`, an unchained queue, in the same statement as
 * before (a stored result always has its event: both commit or neither does), and takes no chain lock.
 * `audit_inbox_drain(max)` chains them: it takes the chain's writer lock, moves the oldest `max` inbox rows into
 * `audit_events` in inbox order (through the chain trigger: the same ids, hashes, dedup window and head as any other
 * event) and deletes them, in one transaction. Each inference proxy drains on a short period (AUDIT_INBOX_DRAIN_MS;
 * libs/audit audit-inbox.drainer.ts), so one statement chains many results' events: the trigger's per-statement work
 * (partition routing, the head's lock) is shared, which is why this is cheaper per event than chaining in each
 * result store. The cost: an `inference.completed` reaches the chain up to one period after its result, usually
 * after its call's `hook.answered`; `recorded_at` (hashed) still says when it happened, and that is the order the
 * trail is read in.
 *
 * The inbox is not the record: the chain is. Only the proxy's runtime role can append to it and call the drain,
 * nothing else: no runtime login can read, change or delete an inbox row, so an event on its way to the chain cannot
 * be dropped by an app. The drain is SECURITY DEFINER with a fixed search_path, like the chain trigger. A row the chain
 * refuses (it cannot be: the inbox has audit_events' own column types and NOT NULLs, and the chain's dedup skips a
 * stored event id) would stay in the inbox and be reported, never dropped: the drain catches the error, leaves the
 * inbox as it was, raises a WARNING (SQLSTATE only) and returns -1 (the drainer counts and logs it).
 */
export class AuditInbox1764560000000 implements MigrationInterface {
  name = 'AuditInbox1764560000000';

  async up(q: QueryRunner): Promise<void> {
    const schema = ((await q.query(`SELECT current_schema() AS s`)) as [{ s: string }])[0].s;
    await q.query(`
      CREATE TABLE audit_inbox (
        seq bigserial PRIMARY KEY,
        event_id uuid NOT NULL,
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
    await q.query(`
      CREATE FUNCTION audit_inbox_drain(max_rows int) RETURNS int LANGUAGE plpgsql AS $$
      DECLARE moved int;
      BEGIN
        -- An empty inbox: no lock, no subtransaction.
        IF NOT EXISTS (SELECT 1 FROM audit_inbox) THEN
          RETURN 0;
        END IF;
        -- The chain's writer lock first (the trigger takes it again, reentrant): drains (one per proxy replica) and
        -- audit batches take turns, and no drain can see an inbox row another drain has taken but not yet committed.
        PERFORM pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK});
        BEGIN
          WITH taken AS (
            DELETE FROM audit_inbox
             WHERE seq IN (SELECT seq FROM audit_inbox ORDER BY seq LIMIT max_rows)
            RETURNING *
          ), chained AS (
            INSERT INTO audit_events (${COLUMNS})
            SELECT ${COLUMNS} FROM taken ORDER BY seq
          )
          SELECT count(*) INTO moved FROM taken;
        EXCEPTION WHEN OTHERS THEN
          -- Never the row's values (they may name a patient): its SQLSTATE. The rows stay queued.
          RAISE WARNING 'audit_inbox_drain: the chain refused an inbox row (SQLSTATE %); the inbox is left as it was', SQLSTATE;
          RETURN -1;
        END;
        RETURN moved;
      END $$`);
    await q.query(`ALTER FUNCTION audit_inbox_drain(int) SECURITY DEFINER SET search_path = ${schema}, pg_temp`);
    await q.query(`REVOKE ALL ON audit_inbox FROM PUBLIC`);
    await q.query(`REVOKE EXECUTE ON FUNCTION audit_inbox_drain(int) FROM PUBLIC`);
    // Only the proxy writes the inbox (its result store: append only) and drains it (AuditInboxDrainer).
    await q.query(`GRANT EXECUTE ON FUNCTION audit_inbox_drain(int) TO ${RUNTIME_ROLES.inferenceProxy}`);
    await q.query(`GRANT INSERT ON audit_inbox TO ${RUNTIME_ROLES.inferenceProxy}`);
    await q.query(`GRANT USAGE ON SEQUENCE audit_inbox_seq_seq TO ${RUNTIME_ROLES.inferenceProxy}`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Whatever is still queued is chained first: nothing in the inbox is lost by going back.
    await q.query(`SELECT audit_inbox_drain(2147483647)`);
    await q.query(`DROP FUNCTION audit_inbox_drain(int)`);
    await q.query(`DROP TABLE audit_inbox`);
  }
}
