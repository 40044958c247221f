import { queryRows } from '../../support/postgres';

/** One database login seen in use by the apps, with what it may do. */
export interface AppLogin {
  application: string;
  login: string;
  superuser: boolean;
  owner: boolean;
}

/**
 * Every connection to the database but the caller's own, by application and login (issue 14: each app on its own
 * runtime login, never the owner or a superuser). Call while the apps are busy, when their pools hold connections.
 */
export async function appLogins(ownerUrl: string): Promise<AppLogin[]> {
  return queryRows<AppLogin & Record<string, unknown>>(
    ownerUrl,
    `SELECT DISTINCT a.application_name AS application, a.usename AS login, r.rolsuper AS superuser,
            EXISTS (SELECT 1 FROM pg_tables t WHERE t.tableowner = a.usename) AS owner
     FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
     WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() ORDER BY 1, 2`,
  );
}
