import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLES } from '../roles/runtime-roles';
import { AUDIT_CHAIN_LOCK_KEY, auditChainWithWriterQueue, runAsOwner } from './1764540000000-audit-chain-writer-queue';

/** Tail rows kept behind the newest (trimmed once per this many events, under the chain's lock). */
const TAIL_KEEP = 1024;

/** The same trigger with the head kept as the newest row of audit_chain_tail (inserted, never updated). */
const TAIL_CHAIN = `
  CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE head text;
  BEGIN
    -- Only ever on audit_events (1764450000000): a login that can create tables cannot borrow it to move the head.
    IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = TG_RELID AND inhparent = 'audit_events'::regclass) THEN
      RAISE EXCEPTION 'audit_events_chain() chains audit_events only' USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Writers queue here (1764540000000), then lock the head row: only locked, never updated (no new version), so
    -- a session holding it still holds every writer off.
    PERFORM pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK_KEY[0]}, ${AUDIT_CHAIN_LOCK_KEY[1]});
    PERFORM 1 FROM audit_chain_head WHERE singleton FOR UPDATE;
    -- The newest tail row is the head: one descent to the right end of the primary key.
    SELECT hash INTO STRICT head FROM audit_chain_tail ORDER BY id DESC LIMIT 1;
    -- Serialised by the locks above, as before: a replayed event is skipped and the head is not moved.
    IF NEW.event_id IS NOT NULL AND EXISTS (
      SELECT 1 FROM audit_events WHERE event_id = NEW.event_id
         AND recorded_at BETWEEN NEW.recorded_at - interval '31 days' AND NEW.recorded_at + interval '31 days') THEN
      RETURN NULL;
    END IF;
    NEW.id := nextval('audit_events_id_seq');
    NEW.prev_hash := head;
    NEW.hash := audit_event_hash(head, NEW.id, NEW.recorded_at, NEW.action, NEW.outcome, NEW.service,
      NEW.actor, NEW.client_id, NEW.tenant, NEW.patient_ref, NEW.request_id, NEW.hook_instance, NEW.detail);
    INSERT INTO audit_chain_tail (id, hash, at) VALUES (NEW.id, NEW.hash, now());
    IF NEW.id % ${TAIL_KEEP} = 0 THEN
      DELETE FROM audit_chain_tail WHERE id < NEW.id - ${TAIL_KEEP};
    END IF;
    RETURN NEW;
  END $$`;

/**
 * The chain head becomes the newest row of an append-only side table (issue 17).
 *
 * Before: every chained event UPDATEd the one `audit_chain_head` row. An UPDATE leaves the old version behind, and
 * Postgres can prune it only once no running statement's snapshot is older than it; a statement waiting for the
 * chain's lock holds such a snapshot while it waits (`backend_xmin` set, checked), and so does any long statement
 * elsewhere. While the horizon was held, every later event's SELECT ... FOR UPDATE and UPDATE of the head stepped
 * over all versions since: measured with one REPEATABLE READ transaction held open, 4-row batches cost 0.34 ms per
 * row in the first 2,000 rows and 0.97 ms by the 16,000th (0.26 ms flat without it). After a database stall under
 * load this fed itself (the backlog keeps writers waiting, the waits keep the versions): the collapses of
 * bench/results-issue-17-allocator.md, 550–1,006 dead head versions.
 *
 * After: the trigger inserts (id, hash) into `audit_chain_tail` and reads the head as its newest row (ORDER BY id
 * DESC LIMIT 1, one index descent, which never meets the old rows at the other end however long the horizon is held).
 * Same measurement: 0.18 ms per row without and 0.17–0.24 ms with the held transaction. `audit_chain_head` stays,
 * without its head columns, as the row writers lock (only lock: FOR UPDATE writes no new version), so whatever held
 * every writer off by locking it still does. What is unchanged: the guard, the writers' queue, the dedup window, ids
 * taken under the lock (chain order is id order), the canonical hash. The tail keeps the newest TAIL_KEEP rows
 * (trimmed by the writer whose id is a multiple of it). Runtime roles may read the tail (the head is published and
 * verified from it) and nothing else; the trigger writes it as the owner (SECURITY DEFINER, fixed search_path).
 */
export class AuditChainTail1764560000000 implements MigrationInterface {
  name = 'AuditChainTail1764560000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_chain_tail (
        id bigint PRIMARY KEY,
        hash char(64) NOT NULL,
        at timestamptz NOT NULL
      )`);
    // Genesis (an empty chain) is id 0: no event has it (the id sequence starts at 1).
    await q.query(`INSERT INTO audit_chain_tail (id, hash, at)
                   SELECT coalesce(last_id, 0), last_hash, updated_at FROM audit_chain_head WHERE singleton`);
    await q.query(TAIL_CHAIN);
    await runAsOwner(q);
    await q.query(`ALTER TABLE audit_chain_head DROP COLUMN last_id, DROP COLUMN last_hash, DROP COLUMN updated_at`);
    await q.query(`REVOKE ALL ON audit_chain_tail FROM PUBLIC`);
    await q.query(`GRANT SELECT ON audit_chain_tail TO ${Object.values(RUNTIME_ROLES).join(', ')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_chain_head ADD COLUMN last_id bigint, ADD COLUMN last_hash char(64),
                   ADD COLUMN updated_at timestamptz`);
    await q.query(`UPDATE audit_chain_head h SET last_id = nullif(t.id, 0), last_hash = t.hash, updated_at = t.at
                   FROM (SELECT id, hash, at FROM audit_chain_tail ORDER BY id DESC LIMIT 1) t WHERE h.singleton`);
    await q.query(
      `ALTER TABLE audit_chain_head ALTER COLUMN last_hash SET NOT NULL, ALTER COLUMN updated_at SET NOT NULL`,
    );
    await q.query(auditChainWithWriterQueue());
    await runAsOwner(q);
    await q.query(`DROP TABLE audit_chain_tail`);
  }
}
