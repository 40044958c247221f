import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The key of the transaction-scoped advisory lock audit writers queue on before they lock the chain head. The
 * two-int4 form: its own key space (locktag objsubid 2), apart from the single-bigint keys the other advisory locks
 * use (inference_queue's per-prompt hash, the retention purge, the governance roll-up), so no prompt's key can
 * collide with it. 0x41554443 is "AUDC".
 */
export const AUDIT_CHAIN_LOCK_KEY = [0x41554443, 1] as const;

/**
 * The chain trigger body shared by both versions: `queue` is what runs before the head row is locked. Everything
 * else is the trigger of 1764470100000 (CHAIN_WITH_DEDUP) word for word: the same guard, head lock, dedup window,
 * id, hash and head update.
 */
function chainFunction(queue: string): string {
  return `
  CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE head text;
  BEGIN
    -- Only ever on audit_events (1764450000000): a login that can create tables cannot borrow it to move the head.
    IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = TG_RELID AND inhparent = 'audit_events'::regclass) THEN
      RAISE EXCEPTION 'audit_events_chain() chains audit_events only' USING ERRCODE = 'insufficient_privilege';
    END IF;${queue}
    SELECT last_hash INTO STRICT head FROM audit_chain_head WHERE singleton FOR UPDATE;
    -- Under the head lock every insert is serialised, so this check cannot race; skipping here (not through
    -- ON CONFLICT) keeps the head untouched, so a replayed event never leaves a gap in the chain. An event recorded
    -- again (a redelivered inference) has a new recorded_at: the window finds it, and prunes to a few partitions.
    IF NEW.event_id IS NOT NULL AND EXISTS (
      SELECT 1 FROM audit_events WHERE event_id = NEW.event_id
         AND recorded_at BETWEEN NEW.recorded_at - interval '31 days' AND NEW.recorded_at + interval '31 days') THEN
      RETURN NULL;
    END IF;
    NEW.id := nextval('audit_events_id_seq');
    NEW.prev_hash := head;
    NEW.hash := audit_event_hash(head, NEW.id, NEW.recorded_at, NEW.action, NEW.outcome, NEW.service,
      NEW.actor, NEW.client_id, NEW.tenant, NEW.patient_ref, NEW.request_id, NEW.hook_instance, NEW.detail);
    UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash, updated_at = now() WHERE singleton;
    RETURN NEW;
  END $$`;
}

const QUEUE = `
    -- Writers queue here first (issue 17): waiters on a row lock are all woken at each commit, race for the tuple
    -- lock and re-check the newer head version, so with many writers most of a wait was CPU; an advisory lock is one
    -- FIFO queue. The head row lock below is still taken (uncontended among writers), so anything that holds it
    -- still holds every writer off, and the chain order is still the lock order.
    PERFORM pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK_KEY[0]}, ${AUDIT_CHAIN_LOCK_KEY[1]});`;

/** This migration's trigger, as its up() creates it (for a later migration's down to restore it exactly). */
export function auditChainWithWriterQueue(): string {
  return chainFunction(QUEUE);
}

/**
 * Audit writers queue on a transaction-scoped advisory lock before they lock the chain head (issue 17).
 *
 * Before: every audit INSERT's chain trigger waited on the head row's lock (SELECT ... FOR UPDATE), held until its
 * transaction ended. At each commit Postgres wakes every waiter of that row; they race for the tuple lock, the winner
 * follows the update chain to the new head version, the others sleep again. Measured on this 2-core machine
 * (bench/pg-statement-cpu.ts, one-row audit INSERTs, prepared, exact backend CPU, rounds alternated with a database
 * without this migration): 278 -> 245 µs per statement with four writers at once, 346 -> 251 µs with eight; with one
 * writer within noise (-5 to +13 µs across runs).
 *
 * After: the same trigger takes `pg_advisory_xact_lock(AUDIT_CHAIN_LOCK_KEY)` first, then the head row lock as before.
 * What holds before and after, unchanged: every chained insert holds the head row lock from the moment it reads the
 * head until its transaction ends, so inserts are serialised and the chain order is the id order; the canonical hash,
 * the dedup window and the guard are the same text; a session holding the head row lock (a test's blocker, an
 * operator) still blocks every writer. New: the advisory lock is held to the end of the writer's transaction as
 * well; a transaction that locked the head row itself and then inserted an audit row would now deadlock with a
 * concurrent writer (Postgres detects it and aborts one) where before it only waited: nothing does that (the
 * retention purge moves the anchor, never the head; the checkpoints read it).
 *
 * SECURITY DEFINER with a fixed search_path, as 1764450000000/1764470100000 left it (CREATE OR REPLACE resets them).
 */
export class AuditChainWriterQueue1764540000000 implements MigrationInterface {
  name = 'AuditChainWriterQueue1764540000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(chainFunction(QUEUE));
    await runAsOwner(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(chainFunction(''));
    await runAsOwner(q);
  }
}

/** The chain trigger runs as its owner with a fixed search_path (CREATE OR REPLACE resets both). */
export async function runAsOwner(q: QueryRunner): Promise<void> {
  const schema = ((await q.query(`SELECT current_schema() AS s`)) as [{ s: string }])[0].s;
  await q.query(`ALTER FUNCTION audit_events_chain() SECURITY DEFINER SET search_path = ${schema}, pg_temp`);
}
