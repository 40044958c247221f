import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The five classification columns of `hook_invocations` (1764490000000) with their expressions there, word for word:
 * each reads only `answer_detail`.
 */
const ANSWER_OUTCOME = `CASE
  WHEN answer_detail IS NULL THEN NULL
  WHEN answer_detail->>'result' = 'expired' THEN 'expired'
  WHEN answer_detail->>'result' = 'error' THEN 'backend_error'
  WHEN answer_detail->>'result' = 'pending' THEN 'pending'
  WHEN answer_detail->>'output' IN ('not_json', 'schema_mismatch') THEN 'invalid'
  WHEN answer_detail->>'repair' = 'succeeded' THEN 'repaired'
  WHEN answer_detail->>'output' = 'valid' THEN 'valid'
  ELSE 'other' END`;

function droppedFor(reason: string): string {
  return `coalesce(jsonb_array_length(jsonb_path_query_array(answer_detail, '$.dropped[*] ? (@.reason == "${reason}")')), 0)`;
}

const COLUMNS: ReadonlyArray<readonly [name: string, type: string, expression: string]> = [
  ['answer_outcome', 'text', ANSWER_OUTCOME],
  ['dropped_uncited', 'integer', droppedFor('no_citation')],
  ['dropped_unknown_ref', 'integer', droppedFor('unknown_reference')],
  ['critical_lowered', 'integer', `coalesce((answer_detail->>'downgradedCritical')::integer, 0)`],
  [
    'shadow_cards',
    'integer',
    `CASE WHEN answer_detail->>'shadow' = 'true' THEN coalesce((answer_detail->>'shadowCards')::integer, 0) END`,
  ],
];

/** The partial indexes over `shadow_cards` (1764490000000): dropped with the column on the way down, so made again. */
const SHADOW_INDEXES = [
  `CREATE INDEX ix_hook_invocations_shadow ON hook_invocations (received_at) INCLUDE (service_id)
     WHERE shadow_cards > 0`,
  `CREATE INDEX ix_hook_invocations_shadow_service ON hook_invocations (service_id, received_at)
     WHERE shadow_cards > 0`,
];

/**
 * `hook_invocations`' classification columns computed by a row trigger instead of as STORED generated columns
 * (issue 17).
 *
 * Why: Postgres 15 rebuilds a table's generation expressions for every statement that writes it (reads each one's
 * text from the catalog, parses it back into an expression tree, plans and initialises it), whether or not the row
 * needs them: for these five expressions (two with a jsonpath) ExecInitStoredGenerated was 11 % of hook_start's
 * backend CPU (perf). Measured with bench/pg-statement-cpu.ts (exact backend CPU, rounds alternated with a database
 * without this migration): hook_start 269 -> 225 µs, the cards statement (the answer's UPDATE) 193 -> 164 µs. A
 * plpgsql trigger keeps compiled expressions for the session and only re-initialises them per transaction.
 *
 * What holds before and after: after every INSERT and every UPDATE of a row (whatever columns it sets), each of the
 * five columns holds its expression of 1764490000000 evaluated on the row's `answer_detail`: the trigger evaluates
 * the same expression text, with `answer_detail` bound to the row's new value, as a BEFORE trigger on every INSERT
 * and UPDATE (no column list), so nothing can store another value. A row without an answer detail (every new call)
 * gets what the expressions give for NULL (answer_outcome and shadow_cards NULL, the three counts 0) without
 * evaluating them. What changes: a statement that names one of the columns is no longer refused ("cannot insert a
 * non-DEFAULT value into column"); its value is overwritten instead. No code names them in a write.
 *
 * Down: the columns are generated again (Postgres 15 cannot give an existing column an expression, so they are
 * dropped and added back, recomputed from `answer_detail`: the same values; they move to the end of the table), and
 * the two shadow indexes are made again.
 */
export class HookAnswerClassificationTrigger1764540100000 implements MigrationInterface {
  name = 'HookAnswerClassificationTrigger1764540100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION hook_invocations_classify() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        answer_detail jsonb := NEW.answer_detail;
      BEGIN
        IF answer_detail IS NULL THEN
          NEW.answer_outcome := NULL;
          NEW.dropped_uncited := 0;
          NEW.dropped_unknown_ref := 0;
          NEW.critical_lowered := 0;
          NEW.shadow_cards := NULL;
          RETURN NEW;
        END IF;
        ${COLUMNS.map(([name, , expression]) => `NEW.${name} := ${expression};`).join('\n        ')}
        RETURN NEW;
      END $$`);
    await q.query(
      `ALTER TABLE hook_invocations ${COLUMNS.map(([name]) => `ALTER COLUMN ${name} DROP EXPRESSION`).join(', ')}`,
    );
    await q.query(`
      CREATE TRIGGER hook_invocations_classify BEFORE INSERT OR UPDATE ON hook_invocations
      FOR EACH ROW EXECUTE FUNCTION hook_invocations_classify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER hook_invocations_classify ON hook_invocations`);
    await q.query(`DROP FUNCTION hook_invocations_classify()`);
    await q.query(`ALTER TABLE hook_invocations ${COLUMNS.map(([name]) => `DROP COLUMN ${name}`).join(', ')}`);
    await q.query(
      `ALTER TABLE hook_invocations ${COLUMNS.map(
        ([name, type, expression]) => `ADD COLUMN ${name} ${type} GENERATED ALWAYS AS (${expression}) STORED`,
      ).join(', ')}`,
    );
    for (const sql of SHADOW_INDEXES) await q.query(sql);
  }
}
