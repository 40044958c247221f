import type { MigrationInterface, QueryRunner } from 'typeorm';

const COLUMNS = `id, recorded_at, action, outcome, service, actor, client_id, tenant, patient_ref, request_id,
  hook_instance, detail, prev_hash, hash`;

/**
 * Monthly partitions for `audit_events` (retention drops whole expired months; issue 6). The primary key becomes
 * (id, recorded_at) because a partitioned table's unique keys must hold the partition key. Existing rows are
 * copied with their ids and hashes, so the chain is unchanged; the triggers and privileges are set again on the
 * new table. A DEFAULT partition takes anything outside the created months, so an insert never fails.
 */
export class AuditPartitions1764400200000 implements MigrationInterface {
  name = 'AuditPartitions1764400200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_events RENAME TO audit_events_unpartitioned`);
    await q.query(`
      CREATE TABLE audit_events (
        id bigint NOT NULL,
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
        detail jsonb NOT NULL DEFAULT '{}'::jsonb,
        prev_hash char(64) NOT NULL,
        hash char(64) NOT NULL,
        CONSTRAINT pk_audit_events PRIMARY KEY (id, recorded_at)
      ) PARTITION BY RANGE (recorded_at)`);
    await q.query(`CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT`);

    // Creates the monthly partitions from `first_month` through `months_ahead` months after now (idempotent).
    await q.query(`
      CREATE FUNCTION audit_events_ensure_partitions(months_ahead int DEFAULT 3, first_month date DEFAULT NULL)
      RETURNS int LANGUAGE plpgsql AS $$
      DECLARE
        m date := date_trunc('month', coalesce(first_month, now() AT TIME ZONE 'UTC'))::date;
        last date := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => months_ahead))::date;
        part text;
        created int := 0;
      BEGIN
        WHILE m <= last LOOP
          part := format('audit_events_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'));
          IF to_regclass(part) IS NULL THEN
            BEGIN
              EXECUTE format(
                'CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
                part, (m::timestamp AT TIME ZONE 'UTC'), ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
              EXECUTE format(
                'CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()',
                part);
              EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM PUBLIC', part);
              created := created + 1;
            EXCEPTION WHEN check_violation THEN
              -- Rows for this month already sit in the default partition: leave them there (still chained).
              RAISE WARNING 'audit partition % not created: the default partition holds rows for that month', part;
            END;
          END IF;
          m := (m + interval '1 month')::date;
        END LOOP;
        RETURN created;
      END $$`);
    await q.query(`
      SELECT audit_events_ensure_partitions(3,
        (SELECT min(recorded_at AT TIME ZONE 'UTC')::date FROM audit_events_unpartitioned))`);
    await q.query(
      `INSERT INTO audit_events (${COLUMNS}) SELECT ${COLUMNS} FROM audit_events_unpartitioned ORDER BY id`,
    );
    // The sequence outlives the old table: ids keep counting where they were.
    await q.query(`ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events.id`);
    await q.query(`DROP TABLE audit_events_unpartitioned`);

    await q.query(`
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_chain()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events_default
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_events_default FROM PUBLIC`);

    for (const [name, columns] of INDEXES) await q.query(`CREATE INDEX ${name} ON audit_events (${columns})`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_events RENAME TO audit_events_partitioned`);
    await q.query(`
      CREATE TABLE audit_events (
        id bigint PRIMARY KEY,
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
        detail jsonb NOT NULL DEFAULT '{}'::jsonb,
        prev_hash char(64) NOT NULL,
        hash char(64) NOT NULL
      )`);
    await q.query(`INSERT INTO audit_events (${COLUMNS}) SELECT ${COLUMNS} FROM audit_events_partitioned ORDER BY id`);
    await q.query(`ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events.id`);
    await q.query(`DROP TABLE audit_events_partitioned`);
    await q.query(`DROP FUNCTION audit_events_ensure_partitions`);
    await q.query(`
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_chain()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC`);
    for (const [name, columns] of INDEXES) await q.query(`CREATE INDEX ${name} ON audit_events (${columns})`);
  }
}

const INDEXES: ReadonlyArray<readonly [string, string]> = [
  ['ix_audit_events_recorded_at', 'recorded_at'],
  ['ix_audit_events_patient', 'patient_ref, recorded_at'],
  ['ix_audit_events_request', 'request_id'],
  ['ix_audit_events_patient_id', 'patient_ref, id'],
  ['ix_audit_events_actor_id', 'actor, id'],
  ['ix_audit_events_client_id', 'client_id, id'],
  ['ix_audit_events_action_id', 'action, id'],
  ['ix_audit_events_hook_instance_id', 'hook_instance, id'],
];
