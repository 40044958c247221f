import { DataSource } from 'typeorm';
import { allEntities } from './entities';
import { allMigrations } from './migrations';
import { setPreparedStatements } from './statements/hot-query';

export interface DatabaseOptions {
  readonly url: string;
  /** Connections in this process's pool. */
  readonly poolSize?: number;
  readonly applicationName?: string;
  /** Hot-path statements as named prepared statements (statements/hot-query.ts); default on. */
  readonly preparedStatements?: boolean;
}

/**
 * How long a pool connection may sit idle before it is closed (pg-pool's default is 10 s). A new Postgres backend
 * costs about 11 ms of server CPU before its first statement is planned (bench/results-issue-17-pg-cpu-findings.md),
 * so a pool that closes connections between bursts pays that again at every burst; a minute keeps them across the
 * gaps of ordinary traffic and still gives them back when an app goes quiet.
 */
export const POOL_IDLE_TIMEOUT_MS = 60_000;

/** Migrations only: `synchronize` is never on. */
export function createDataSource(opts: DatabaseOptions): DataSource {
  const ds = new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: allEntities,
    migrations: allMigrations,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName: opts.applicationName ?? 'meditron-cds',
    extra: { max: opts.poolSize ?? 10, connectionTimeoutMillis: 5000, idleTimeoutMillis: POOL_IDLE_TIMEOUT_MS },
  });
  setPreparedStatements(ds, opts.preparedStatements ?? true);
  return ds;
}

export async function runMigrations(url: string): Promise<string[]> {
  const ds = createDataSource({ url, poolSize: 1, applicationName: 'meditron-cds-migrate' });
  await ds.initialize();
  try {
    const ran = await ds.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}

/** Apps refuse to start on a schema that is behind their code, rather than failing on the first write. */
export async function assertSchemaCurrent(ds: DataSource): Promise<void> {
  if (await ds.showMigrations()) {
    throw new Error(
      'database schema is behind this version: run `npm run db:migrate` (or the Helm migration job) first',
    );
  }
}
