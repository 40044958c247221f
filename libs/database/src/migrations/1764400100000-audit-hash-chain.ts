import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hash-chains `audit_events` in the database (issue 6): every writer (three apps, many replicas) goes through one
 * BEFORE INSERT trigger that locks a one-row chain head, so the chain order is the id order. The canonical text is
 * independent of session settings and mirrored in libs/audit (audit-canonical.ts), which verifies it.
 */
export class AuditHashChain1764400100000 implements MigrationInterface {
  name = 'AuditHashChain1764400100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_chain_head (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        last_id bigint,
        last_hash char(64) NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    // Where the chain starts: genesis, or the last row of the newest purged partition (retention).
    await q.query(`
      CREATE TABLE audit_chain_anchor (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        through_id bigint,
        hash char(64) NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`INSERT INTO audit_chain_anchor (hash, updated_at) VALUES (repeat('0', 64), now())`);

    // A field: `~` for NULL, else `<utf8 byte length>:<text>`; unambiguous whatever the text holds.
    await q.query(`
      CREATE FUNCTION audit_canonical_field(v text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN v IS NULL THEN '~' ELSE octet_length(v)::text || ':' || v END
      $$`);
    await q.query(`
      CREATE FUNCTION audit_event_hash(
        prev text, id bigint, recorded_at timestamptz, action text, outcome text, service text, actor text,
        client_id text, tenant text, patient_ref text, request_id text, hook_instance uuid, detail jsonb
      ) RETURNS text LANGUAGE sql STABLE AS $$
        SELECT encode(sha256(convert_to(concat_ws('|',
          prev,
          audit_canonical_field(id::text),
          audit_canonical_field(((extract(epoch FROM recorded_at) * 1000000)::bigint)::text),
          audit_canonical_field(action),
          audit_canonical_field(outcome),
          audit_canonical_field(service),
          audit_canonical_field(actor),
          audit_canonical_field(client_id),
          audit_canonical_field(tenant),
          audit_canonical_field(patient_ref),
          audit_canonical_field(request_id),
          audit_canonical_field(hook_instance::text),
          audit_canonical_field(detail::text)
        ), 'UTF8')), 'hex')
      $$`);

    await q.query(`ALTER TABLE audit_events ADD COLUMN prev_hash char(64), ADD COLUMN hash char(64)`);
    // Back-fill existing rows in id order (the append-only trigger is off only inside this transaction).
    await q.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`);
    await q.query(`
      DO $$
      DECLARE r record; h text := repeat('0', 64); last bigint;
      BEGIN
        FOR r IN SELECT * FROM audit_events ORDER BY id LOOP
          UPDATE audit_events SET prev_hash = h,
            hash = audit_event_hash(h, r.id, r.recorded_at, r.action, r.outcome, r.service, r.actor, r.client_id,
                                    r.tenant, r.patient_ref, r.request_id, r.hook_instance, r.detail)
          WHERE id = r.id RETURNING hash INTO h;
          last := r.id;
        END LOOP;
        INSERT INTO audit_chain_head (last_id, last_hash, updated_at) VALUES (last, h, now());
      END $$`);
    await q.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`);
    await q.query(`ALTER TABLE audit_events ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL`);
    // Ids are taken under the head lock, so id order is chain order even with concurrent writers.
    await q.query(`ALTER TABLE audit_events ALTER COLUMN id DROP DEFAULT`);

    await q.query(`
      CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE head text;
      BEGIN
        SELECT last_hash INTO STRICT head FROM audit_chain_head WHERE singleton FOR UPDATE;
        NEW.id := nextval('audit_events_id_seq');
        NEW.prev_hash := head;
        NEW.hash := audit_event_hash(head, NEW.id, NEW.recorded_at, NEW.action, NEW.outcome, NEW.service,
          NEW.actor, NEW.client_id, NEW.tenant, NEW.patient_ref, NEW.request_id, NEW.hook_instance, NEW.detail);
        UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash, updated_at = now() WHERE singleton;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_chain()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_chain_anchor FROM PUBLIC`);

    // Compliance search: every filter walks an index in id order (keyset pagination, newest first).
    for (const [name, column] of [
      ['ix_audit_events_patient_id', 'patient_ref'],
      ['ix_audit_events_actor_id', 'actor'],
      ['ix_audit_events_client_id', 'client_id'],
      ['ix_audit_events_action_id', 'action'],
      ['ix_audit_events_hook_instance_id', 'hook_instance'],
    ] as const) {
      await q.query(`CREATE INDEX ${name} ON audit_events (${column}, id)`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const name of [
      'ix_audit_events_patient_id',
      'ix_audit_events_actor_id',
      'ix_audit_events_client_id',
      'ix_audit_events_action_id',
      'ix_audit_events_hook_instance_id',
    ]) {
      await q.query(`DROP INDEX ${name}`);
    }
    await q.query(`DROP TRIGGER audit_events_no_truncate ON audit_events`);
    await q.query(`DROP TRIGGER audit_events_chain ON audit_events`);
    await q.query(`DROP FUNCTION audit_events_chain`);
    await q.query(`ALTER TABLE audit_events ALTER COLUMN id SET DEFAULT nextval('audit_events_id_seq')`);
    await q.query(`ALTER TABLE audit_events DROP COLUMN hash, DROP COLUMN prev_hash`);
    await q.query(`DROP FUNCTION audit_event_hash`);
    await q.query(`DROP FUNCTION audit_canonical_field`);
    await q.query(`DROP TABLE audit_chain_anchor`);
    await q.query(`DROP TABLE audit_chain_head`);
  }
}
