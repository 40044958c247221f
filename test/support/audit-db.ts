import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '@app/database';
import { createTestDatabase, type TestDatabase } from './postgres';
import { runtimeUrls, type RuntimeUrls } from './runtime-roles';

export interface AuditTestDatabase {
  readonly db: TestDatabase;
  /** The owner's pool (the role that ran the migrations). */
  readonly ds: DataSource;
  /** Each app's runtime login (see runtime-roles.ts). */
  readonly runtime: RuntimeUrls;
  /** Another pool on the same database (as `url`, the owner by default), standing in for another app or replica. */
  open(applicationName: string, url?: string): Promise<DataSource>;
  stop(): Promise<void>;
}

/** A migrated database of its own with a DataSource on it; every extra DataSource is closed by stop(). */
export async function startAuditDatabase(prefix: string): Promise<AuditTestDatabase> {
  const db = await createTestDatabase(prefix);
  await runMigrations(db.url);
  const runtime = await runtimeUrls(db.url);
  const opened: DataSource[] = [];
  const open = async (applicationName: string, url = db.url) => {
    const ds = createDataSource({ url, poolSize: 2, applicationName });
    await ds.initialize();
    opened.push(ds);
    return ds;
  };
  const ds = await open('audit-test');
  return {
    db,
    ds,
    runtime,
    open,
    async stop() {
      for (const d of opened) await d.destroy();
      await db.drop();
    },
  };
}
