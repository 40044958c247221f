import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLES } from '../roles/runtime-roles';

/** Operational tables each app reads and writes (the audit tables are granted apart, below). */
const OPERATIONAL: Record<keyof typeof RUNTIME_ROLES, { write: string[]; read: string[] }> = {
  gateway: {
    // ehr_clients: the admin API registers, changes and removes EHR clients (audited).
    write: ['jwt_replay', 'ehr_clients'],
    read: ['hook_invocations', 'cds_cards', 'feedback', 'inference_requests', 'inference_results', 'model_pool_limits'],
  },
  cdsHooks: {
    write: ['hook_invocations', 'cds_cards', 'feedback', 'inference_requests', 'inference_results'],
    read: ['model_pool_limits'],
  },
  inferenceProxy: {
    write: ['inference_requests', 'inference_results', 'model_pool_limits'],
    read: ['hook_invocations'],
  },
};

/**
 * Splits the database login (issue 14, finding 1). The role running this migration owns the schema; each app
 * runs as a member of a NOLOGIN group role holding only what it needs. On the audit tables that is INSERT and
 * SELECT: the chain trigger and the partition and retention routines are SECURITY DEFINER functions owned by the
 * owner, with a fixed search_path, so a runtime login can append through the trigger but cannot disable it, edit
 * or delete rows, move `audit_chain_head`/`audit_chain_anchor`, or purge inside the legal retention minimum.
 * Group roles are cluster-wide (created once, idempotently); their grants are per database.
 */
export class RuntimeRoles1764450000000 implements MigrationInterface {
  name = 'RuntimeRoles1764450000000';

  async up(q: QueryRunner): Promise<void> {
    const schema = ((await q.query(`SELECT current_schema() AS s`)) as [{ s: string }])[0].s;
    for (const role of Object.values(RUNTIME_ROLES)) {
      await q.query(`
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} NOLOGIN; END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; -- another database's migration made it first
        END $$`);
    }
    const all = Object.values(RUNTIME_ROLES).join(', ');
    await q.query(`GRANT USAGE ON SCHEMA ${schema} TO ${all}`);
    // Boot checks (schema current, client registry) and the audit trail, for every app.
    await q.query(`GRANT SELECT ON migrations, ehr_clients TO ${all}`);
    await q.query(`GRANT SELECT, INSERT ON audit_events TO ${all}`);
    await q.query(`GRANT SELECT ON audit_chain_head, audit_chain_anchor TO ${all}`);
    for (const [app, role] of Object.entries(RUNTIME_ROLES) as Array<[keyof typeof RUNTIME_ROLES, string]>) {
      const { write, read } = OPERATIONAL[app];
      if (write.length) await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${write.join(', ')} TO ${role}`);
      if (read.length) await q.query(`GRANT SELECT ON ${read.join(', ')} TO ${role}`);
    }

    // The chain trigger writes the head as the owner: runtime roles have no UPDATE on it and no nextval on the ids.
    // It refuses to run for any table but audit_events' partitions, so no one can borrow it on a table of their own.
    await q.query(chainFunction(true));
    await q.query(`ALTER FUNCTION audit_events_chain() SECURITY DEFINER SET search_path = ${schema}, pg_temp`);
    // No app may create objects here (PUBLIC keeps CREATE on public in databases from before Postgres 15).
    await q.query(`
      DO $$ BEGIN
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
      EXCEPTION WHEN insufficient_privilege THEN
        RAISE WARNING 'CREATE on schema % not revoked from PUBLIC (not its owner): revoke it as the owner', current_schema();
      END $$`);
    await q.query(
      `ALTER FUNCTION audit_events_ensure_partitions(int, date) SECURITY DEFINER SET search_path = ${schema}, pg_temp`,
    );
    await q.query(`REVOKE EXECUTE ON FUNCTION audit_events_ensure_partitions(int, date) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION audit_events_ensure_partitions(int, date) TO ${RUNTIME_ROLES.gateway}`);

    // The legal minimum is the owner's to set (HIPAA 164.316: six years); the purge routine refuses anything shorter.
    await q.query(`
      CREATE TABLE audit_retention_policy (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        min_retain_months int NOT NULL CHECK (min_retain_months >= 1)
      )`);
    await q.query(`INSERT INTO audit_retention_policy (min_retain_months) VALUES (72)`);
    await q.query(`GRANT SELECT ON audit_retention_policy TO ${all}`);
    await q.query(PURGE_FUNCTION.replace('$SCHEMA', schema));
    await q.query(`REVOKE EXECUTE ON FUNCTION audit_retention_purge(int) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION audit_retention_purge(int) TO ${RUNTIME_ROLES.gateway}`);

    // Signed checkpoints of the chain head (the signing key never reaches the database); append-only like the trail.
    await q.query(`
      CREATE TABLE audit_chain_checkpoints (
        id bigserial PRIMARY KEY,
        key_id text NOT NULL,
        head_id bigint NOT NULL,
        head_hash char(64) NOT NULL,
        signed_at timestamptz NOT NULL,
        signature text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ix_audit_chain_checkpoints_head ON audit_chain_checkpoints (head_id)`);
    await q.query(`
      CREATE TRIGGER audit_chain_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_chain_checkpoints
      FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_chain_checkpoints_no_truncate BEFORE TRUNCATE ON audit_chain_checkpoints
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_chain_checkpoints FROM PUBLIC`);
    await q.query(`GRANT SELECT ON audit_chain_checkpoints TO ${all}`);
    await q.query(`GRANT INSERT ON audit_chain_checkpoints TO ${RUNTIME_ROLES.gateway}`);
    await q.query(`GRANT USAGE ON SEQUENCE audit_chain_checkpoints_id_seq TO ${RUNTIME_ROLES.gateway}`);
  }

  async down(q: QueryRunner): Promise<void> {
    const all = Object.values(RUNTIME_ROLES).join(', ');
    await q.query(`DROP TABLE audit_chain_checkpoints`);
    await q.query(`DROP FUNCTION audit_retention_purge(int)`);
    await q.query(`DROP TABLE audit_retention_policy`);
    await q.query(`ALTER FUNCTION audit_events_ensure_partitions(int, date) SECURITY INVOKER RESET search_path`);
    await q.query(`GRANT EXECUTE ON FUNCTION audit_events_ensure_partitions(int, date) TO PUBLIC`);
    await q.query(`ALTER FUNCTION audit_events_chain() SECURITY INVOKER RESET search_path`);
    await q.query(chainFunction(false));
    // The group roles stay (other databases on the cluster may use them); their privileges here go.
    await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${await schemaOf(q)} FROM ${all}`);
    await q.query(`REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${await schemaOf(q)} FROM ${all}`);
    await q.query(`REVOKE USAGE ON SCHEMA ${await schemaOf(q)} FROM ${all}`);
  }
}

async function schemaOf(q: QueryRunner): Promise<string> {
  return ((await q.query(`SELECT current_schema() AS s`)) as [{ s: string }])[0].s;
}

/** The hash-chain trigger (1764400100000), with or without the guard that it only chains audit_events. */
function chainFunction(guarded: boolean): string {
  const guard = guarded
    ? `IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = TG_RELID AND inhparent = 'audit_events'::regclass) THEN
          RAISE EXCEPTION 'audit_events_chain() chains audit_events only' USING ERRCODE = 'insufficient_privilege';
        END IF;`
    : '';
  return `
    CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE head text;
    BEGIN
      ${guard}
      SELECT last_hash INTO STRICT head FROM audit_chain_head WHERE singleton FOR UPDATE;
      NEW.id := nextval('audit_events_id_seq');
      NEW.prev_hash := head;
      NEW.hash := audit_event_hash(head, NEW.id, NEW.recorded_at, NEW.action, NEW.outcome, NEW.service,
        NEW.actor, NEW.client_id, NEW.tenant, NEW.patient_ref, NEW.request_id, NEW.hook_instance, NEW.detail);
      UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash, updated_at = now() WHERE singleton;
      RETURN NEW;
    END $$`;
}

/**
 * Drops whole monthly partitions that ended before `now - retain_months` (never fewer months than the policy's
 * minimum), moves the chain anchor to the newest purged row and records `audit.retention.purge`, in the caller's
 * transaction. One run at a time across replicas (advisory lock); a run that finds the lock taken does nothing.
 */
const PURGE_FUNCTION = `
  CREATE FUNCTION audit_retention_purge(retain_months int) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = $SCHEMA, pg_temp AS $fn$
  DECLARE
    minimum int := (SELECT min_retain_months FROM audit_retention_policy WHERE singleton);
    cutoff timestamptz;
    cutoff_text text;
    p record;
    stats record;
    anchor_id bigint;
    anchor_hash text;
    purged jsonb := '[]'::jsonb;
    total bigint := 0;
  BEGIN
    IF retain_months IS NULL OR retain_months < minimum THEN
      RAISE EXCEPTION 'audit retention of % months is below the minimum of % months', retain_months, minimum
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    cutoff := (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => retain_months))
      AT TIME ZONE 'UTC';
    cutoff_text := to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
    IF NOT pg_try_advisory_xact_lock(1296385025) THEN
      RETURN jsonb_build_object('cutoff', cutoff_text, 'partitions', purged, 'anchorId', NULL);
    END IF;
    FOR p IN
      SELECT c.relname AS name,
             make_date(substring(c.relname from 15 for 4)::int, substring(c.relname from 20 for 2)::int, 1) AS month
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'audit_events'::regclass AND c.relname ~ '^audit_events_y[0-9]{4}m[0-9]{2}$'
      ORDER BY 2
    LOOP
      CONTINUE WHEN ((p.month + interval '1 month')::timestamp AT TIME ZONE 'UTC') > cutoff;
      EXECUTE format('SELECT count(*) AS n, max(id) AS max_id FROM %I', p.name) INTO stats;
      IF stats.max_id IS NOT NULL AND (anchor_id IS NULL OR stats.max_id > anchor_id) THEN
        anchor_id := stats.max_id;
        EXECUTE format('SELECT hash FROM %I WHERE id = $1', p.name) INTO anchor_hash USING stats.max_id;
      END IF;
      purged := purged || jsonb_build_object('name', p.name, 'month', p.month, 'rows', stats.n);
      total := total + stats.n;
    END LOOP;
    IF jsonb_array_length(purged) = 0 THEN
      RETURN jsonb_build_object('cutoff', cutoff_text, 'partitions', purged, 'anchorId', NULL);
    END IF;
    IF anchor_id IS NOT NULL THEN
      UPDATE audit_chain_anchor SET through_id = anchor_id, hash = anchor_hash, updated_at = now()
      WHERE singleton AND (through_id IS NULL OR through_id < anchor_id);
    END IF;
    FOR p IN SELECT value->>'name' AS name FROM jsonb_array_elements(purged) LOOP
      EXECUTE format('ALTER TABLE audit_events DETACH PARTITION %I', p.name);
      EXECUTE format('DROP TABLE %I', p.name);
    END LOOP;
    -- In the same transaction: the purge and its record commit together or not at all.
    INSERT INTO audit_events (recorded_at, action, outcome, service, detail)
    VALUES (now(), 'audit.retention.purge', 'success', 'gateway', jsonb_build_object(
      'partitions', (SELECT string_agg(value->>'name', ',') FROM jsonb_array_elements(purged)),
      'rows', total, 'retainMonths', retain_months, 'cutoff', cutoff_text, 'anchorId', anchor_id::text));
    RETURN jsonb_build_object('cutoff', cutoff_text, 'partitions', purged, 'anchorId', anchor_id::text);
  END $fn$`;
