import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLES } from '../roles/runtime-roles';

/** The chain trigger of the hash-chain migration, plus: a row whose event id is already stored is skipped. */
const CHAIN_WITH_DEDUP = `
  CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE head text;
  BEGIN
    -- Only ever on audit_events (1764450000000): a login that can create tables cannot borrow it to move the head.
    IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = TG_RELID AND inhparent = 'audit_events'::regclass) THEN
      RAISE EXCEPTION 'audit_events_chain() chains audit_events only' USING ERRCODE = 'insufficient_privilege';
    END IF;
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

const CHAIN_WITHOUT_DEDUP = `
  CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE head text;
  BEGIN
    -- Only ever on audit_events (1764450000000): a login that can create tables cannot borrow it to move the head.
    IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = TG_RELID AND inhparent = 'audit_events'::regclass) THEN
      RAISE EXCEPTION 'audit_events_chain() chains audit_events only' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT last_hash INTO STRICT head FROM audit_chain_head WHERE singleton FOR UPDATE;
    NEW.id := nextval('audit_events_id_seq');
    NEW.prev_hash := head;
    NEW.hash := audit_event_hash(head, NEW.id, NEW.recorded_at, NEW.action, NEW.outcome, NEW.service,
      NEW.actor, NEW.client_id, NEW.tenant, NEW.patient_ref, NEW.request_id, NEW.hook_instance, NEW.detail);
    UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash, updated_at = now() WHERE singleton;
    RETURN NEW;
  END $$`;

/**
 * Durability (issue 18). Audit events carry a client-made id so a spooled event replayed after a crash, a batch
 * retried after a lost commit acknowledgement, or an event recorded again under a deterministic id is stored once:
 * the chain trigger skips an id already stored within 31 days of the row's time, and a unique index on
 * (event_id, recorded_at) backs it (a partitioned table's unique keys must hold the partition key). The id is a
 * deduplication key, not chained content (the hash is unchanged).
 * `inference_outbox` holds each request's message until a broker took it, so a request committed during a broker
 * outage is still published (or recorded expired) by the relay.
 */
export class DurableAuditAndOutbox1764470100000 implements MigrationInterface {
  name = 'DurableAuditAndOutbox1764470100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_events ADD COLUMN event_id uuid`);
    await q.query(`CREATE UNIQUE INDEX ux_audit_events_event_id ON audit_events (event_id, recorded_at)`);
    await q.query(CHAIN_WITH_DEDUP);
    await runAsOwner(q);
    await q.query(`
      CREATE TABLE inference_outbox (
        request_id uuid PRIMARY KEY REFERENCES inference_requests (request_id) ON DELETE CASCADE,
        message jsonb NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ix_inference_outbox_next_attempt ON inference_outbox (next_attempt_at)`);
    // cds-hooks queues, leases and removes outbox rows (the relay runs there); no other app touches them.
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON inference_outbox TO ${RUNTIME_ROLES.cdsHooks}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE inference_outbox`);
    await q.query(CHAIN_WITHOUT_DEDUP);
    await runAsOwner(q);
    await q.query(`DROP INDEX ux_audit_events_event_id`);
    await q.query(`ALTER TABLE audit_events DROP COLUMN event_id`);
  }
}

/**
 * CREATE OR REPLACE resets a function's SECURITY DEFINER and SET clauses: the chain trigger must keep running as
 * the schema owner with a fixed search_path (1764450000000), or runtime logins could no longer move the head.
 */
async function runAsOwner(q: QueryRunner): Promise<void> {
  const schema = ((await q.query(`SELECT current_schema() AS s`)) as [{ s: string }])[0].s;
  await q.query(`ALTER FUNCTION audit_events_chain() SECURITY DEFINER SET search_path = ${schema}, pg_temp`);
}
