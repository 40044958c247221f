import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres';
import { allMigrations } from '.';

/**
 * Migration 1764540100000: `hook_invocations`' five classification columns come from a row trigger instead of
 * generation expressions (issue 17). The values must be what the generation expressions of 1764490000000 give, for
 * every answer detail, after an INSERT and after any UPDATE; the way down makes them generated columns again.
 */
const DETAILS: ReadonlyArray<unknown> = [
  null,
  {},
  { result: 'expired' },
  { result: 'error', output: 'valid' },
  { result: 'pending' },
  { output: 'not_json' },
  { output: 'schema_mismatch', repair: 'succeeded' },
  { repair: 'succeeded', output: 'valid' },
  { output: 'valid' },
  { output: 'something else' },
  {
    output: 'valid',
    dropped: [
      { reason: 'no_citation', ref: 'Condition/1' },
      { reason: 'no_citation' },
      { reason: 'unknown_reference' },
      { reason: 'policy' },
    ],
    downgradedCritical: 2,
  },
  { dropped: [] },
  { dropped: 'not an array' },
  { shadow: true, shadowCards: 3, shadowPreview: [{ summary: 'x' }] },
  { shadow: true },
  { shadow: 'true', shadowCards: '0' },
  { shadow: false, shadowCards: 3 },
  { downgradedCritical: '4' },
  'null',
  [],
];

/** The migrations through this one (so its down is the last migration's, whatever comes after it). */
const THROUGH = allMigrations.slice(
  0,
  allMigrations.findIndex((m) => m.name === 'HookAnswerClassificationTrigger1764540100000') + 1,
);

const COLUMNS = 'answer_outcome, dropped_uncited, dropped_unknown_ref, critical_lowered, shadow_cards';

describe('hook answer classification trigger (migration 1764540100000)', () => {
  let db: TestDatabase;
  let before: TestDatabase;
  let ds: DataSource;
  let generated: DataSource;

  const invocation = async (d: DataSource, detail: unknown): Promise<string> => {
    const id = randomUUID();
    await d.query(
      `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, client_id, received_at, status,
                                     answer_detail)
       VALUES ($1, $2, 'patient-view', 'meditron-patient-view', 'r', 'ehr-1', now(), 'received', $3::jsonb)`,
      [id, randomUUID(), detail === null ? null : JSON.stringify(detail === 'null' ? null : detail)],
    );
    return id;
  };
  const classified = async (d: DataSource, id: string): Promise<Record<string, unknown>> =>
    ((await d.query(`SELECT ${COLUMNS} FROM hook_invocations WHERE id = $1`, [id])) as [Record<string, unknown>])[0];

  beforeAll(async () => {
    [db, before] = await Promise.all([createTestDatabase('hook_classify'), createTestDatabase('hook_classify_gen')]);
    ds = new DataSource({ type: 'postgres', url: db.url, migrations: THROUGH, logging: false });
    generated = new DataSource({
      type: 'postgres',
      url: before.url,
      migrations: THROUGH.slice(0, -1),
      logging: false,
    });
    await Promise.all([ds.initialize(), generated.initialize()]);
    await ds.runMigrations({ transaction: 'each' });
    await generated.runMigrations({ transaction: 'each' });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([ds?.destroy(), generated?.destroy()]);
    await Promise.all([db?.drop(), before?.drop()]);
  });

  it('stores on INSERT what the generation expressions store, for every answer detail', async () => {
    for (const detail of DETAILS) {
      const expected = await classified(generated, await invocation(generated, detail));
      expect({ detail, ...(await classified(ds, await invocation(ds, detail))) }).toEqual({ detail, ...expected });
    }
  });

  it('recomputes on every UPDATE (the answer, another column, or one of the five named directly)', async () => {
    const id = await invocation(ds, null);
    const gid = await invocation(generated, null);
    for (const detail of DETAILS) {
      const json = detail === null ? null : JSON.stringify(detail === 'null' ? null : detail);
      await ds.query(`UPDATE hook_invocations SET answer_detail = $2::jsonb, status = 'answered' WHERE id = $1`, [
        id,
        json,
      ]);
      await generated.query(`UPDATE hook_invocations SET answer_detail = $2::jsonb WHERE id = $1`, [gid, json]);
      const expected = await classified(generated, gid);
      expect({ detail, ...(await classified(ds, id)) }).toEqual({ detail, ...expected });
      await ds.query(`UPDATE hook_invocations SET cards_returned = 1 WHERE id = $1`, [id]);
      expect({ detail, ...(await classified(ds, id)) }).toEqual({ detail, ...expected });
      await ds.query(`UPDATE hook_invocations SET shadow_cards = 99, answer_outcome = 'forged' WHERE id = $1`, [id]);
      expect({ detail, ...(await classified(ds, id)) }).toEqual({ detail, ...expected });
    }
  });

  it('down makes the columns generated again with the same values and indexes; up moves them to the trigger', async () => {
    const ids = await Promise.all(DETAILS.map((d) => invocation(ds, d)));
    const values = await Promise.all(ids.map((id) => classified(ds, id)));
    const shape = async () =>
      (await ds.query(
        `SELECT (SELECT string_agg(attname || ':' || attgenerated::text, ',' ORDER BY attname) FROM pg_attribute
                  WHERE attrelid = 'hook_invocations'::regclass AND attname = ANY($1)) AS generated,
                (SELECT string_agg(indexdef, ';' ORDER BY indexname) FROM pg_indexes
                  WHERE tablename = 'hook_invocations' AND indexname LIKE 'ix_hook_invocations_shadow%') AS indexes,
                (SELECT count(*) FROM pg_trigger WHERE tgname = 'hook_invocations_classify')::int AS triggers`,
        [COLUMNS.split(', ')],
      )) as [{ generated: string; indexes: string; triggers: number }];
    const [genShape] = (await generated.query(
      `SELECT (SELECT string_agg(attname || ':' || attgenerated::text, ',' ORDER BY attname) FROM pg_attribute
                WHERE attrelid = 'hook_invocations'::regclass AND attname = ANY($1)) AS generated,
              (SELECT string_agg(indexdef, ';' ORDER BY indexname) FROM pg_indexes
                WHERE tablename = 'hook_invocations' AND indexname LIKE 'ix_hook_invocations_shadow%') AS indexes`,
      [COLUMNS.split(', ')],
    )) as [{ generated: string; indexes: string }];

    await ds.undoLastMigration({ transaction: 'each' });
    const [down] = await shape();
    expect(down).toEqual({ ...genShape, triggers: 0 });
    expect(await Promise.all(ids.map((id) => classified(ds, id)))).toEqual(values);

    await ds.runMigrations({ transaction: 'each' });
    const [up] = await shape();
    expect(up.triggers).toBe(1);
    expect(up.indexes).toBe(genShape.indexes);
    expect(up.generated).not.toContain(':s');
    expect(await Promise.all(ids.map((id) => classified(ds, id)))).toEqual(values);
  }, 60_000);
});
