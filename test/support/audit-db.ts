import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '@app/database';
import { createTestDatabase, type TestDatabase } from './postgres';

export interface AuditTestDatabase {
  readonly db: TestDatabase;
  readonly ds: DataSource;
  /** Another pool on the same database, standing in for another app or replica. */
  open(applicationName: string): Promise<DataSource>;
  stop(): Promise<void>;
}

/** A migrated database of its own with a DataSource on it; every extra DataSource is closed by stop(). */
export async function startAuditDatabase(prefix: string): Promise<AuditTestDatabase> {
  const db = await createTestDatabase(prefix);
  await runMigrations(db.url);
  const opened: DataSource[] = [];
  const open = async (applicationName: string) => {
    const ds = createDataSource({ url: db.url, poolSize: 2, applicationName });
    await ds.initialize();
    opened.push(ds);
    return ds;
  };
  const ds = await open('audit-test');
  return {
    db,
    ds,
    open,
    async stop() {
      for (const d of opened) await d.destroy();
      await db.drop();
    },
  };
}
