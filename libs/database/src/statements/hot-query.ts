import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

/**
 * The hook path's statements as named prepared statements on the app's pool (issue 17).
 *
 * `DataSource.query` sends every statement unnamed: Postgres parses and plans it on every call, and TypeORM builds a
 * query runner and broadcasts around it. A named statement is parsed and planned once per connection; node-postgres
 * then sends only Bind/Execute. Measured with pgbench on this schema: an audit INSERT (chain trigger, partitioned
 * table) 0.39–0.43 ms unnamed vs 0.27–0.29 ms prepared per statement, one client.
 *
 * The name is a hash of the text, so the same text always has the same name (node-postgres refuses one name for two
 * texts) and a changed statement in a new release is a new statement. Statements whose text varies with a batch
 * size are prepared only for small batches (the caller says, `prepare`), and only the first
 * {@link MAX_PREPARED_TEXTS} texts a process sees are prepared at all; past that they run unnamed, so the statements
 * a connection holds stay bounded.
 *
 * Off (`DB_PREPARED_STATEMENTS=false`) for a pooler that cannot carry prepared statements across transactions
 * (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`), and on embedded PGlite, whose
 * one backend serves every connection of the process.
 */
export const MAX_PREPARED_TEXTS = 64;

interface PgPool {
  query<R>(config: { name?: string; text: string; values: readonly unknown[] }): Promise<{ rows: R[] }>;
}

const prepared = new WeakMap<DataSource, boolean>();
const names = new Map<string, string>();

/** Whether `ds` runs hot statements prepared (set by createDataSource from `DatabaseOptions.preparedStatements`). */
export function setPreparedStatements(ds: DataSource, on: boolean): void {
  prepared.set(ds, on);
}

/** The statement name for `text`, or undefined when it is to run unnamed (the process's cap is reached). */
export function statementName(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined) return known;
  if (names.size >= MAX_PREPARED_TEXTS) return undefined;
  const name = `mdt_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
  names.set(text, name);
  return name;
}

/**
 * Runs one statement outside any transaction and resolves with its rows (an INSERT/UPDATE/DELETE without RETURNING
 * resolves with none). Errors are node-postgres' own (`code`, `constraint`), as `isTransientDbError` reads them.
 */
export async function hotQuery<R>(
  ds: DataSource,
  text: string,
  values: readonly unknown[],
  opts: { prepare?: boolean } = {},
): Promise<R[]> {
  const pool = prepared.get(ds) ? poolOf(ds) : undefined;
  if (!pool) return (await ds.query(text, [...values])) as R[];
  const name = opts.prepare === false ? undefined : statementName(text);
  const result = await pool.query<R>(name === undefined ? { text, values } : { name, text, values });
  return result.rows;
}

function poolOf(ds: DataSource): PgPool | undefined {
  if (!ds.isInitialized || ds.options.type !== 'postgres') return undefined;
  const master: unknown = (ds.driver as unknown as { master?: unknown }).master;
  return typeof master === 'object' && master !== null && typeof (master as PgPool).query === 'function'
    ? (master as PgPool)
    : undefined;
}
