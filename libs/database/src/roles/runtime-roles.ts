import { Client } from 'pg';

/**
 * The NOLOGIN group roles the migrations grant to (issue 14): one per app. A login for an app is a member of
 * its group role; it never owns a table. Cluster-wide names, privileges per database.
 */
export const RUNTIME_ROLES = {
  gateway: 'meditron_gateway',
  cdsHooks: 'meditron_cds_hooks',
  inferenceProxy: 'meditron_inference_proxy',
} as const;

export type RuntimeApp = keyof typeof RUNTIME_ROLES;

export interface RuntimeLogin {
  readonly user: string;
  /** Set (or changed) when given; a login created without one can only sign in where the server trusts it. */
  readonly password?: string;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Creates each app's login if missing and makes it a member of the app's group role, as the owner (who needs
 * CREATEROLE). Idempotent, and safe when several databases on one cluster do it at once. Run after the migrations.
 */
export async function provisionRuntimeLogins(
  ownerUrl: string,
  logins: Partial<Record<RuntimeApp, RuntimeLogin>>,
): Promise<void> {
  const c = new Client({ connectionString: ownerUrl, application_name: 'meditron-cds-roles' });
  await c.connect();
  try {
    for (const [app, login] of Object.entries(logins) as Array<[RuntimeApp, RuntimeLogin]>) {
      if (!IDENT.test(login.user)) throw new Error(`database login for ${app} is not a plain identifier`);
      await c.query(`
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${login.user}') THEN
            CREATE ROLE ${login.user} LOGIN;
          END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$`);
      if (login.password !== undefined) {
        const quoted = (await c.query<{ q: string }>(`SELECT quote_literal($1) AS q`, [login.password])).rows[0]!.q;
        await c.query(`ALTER ROLE ${login.user} PASSWORD ${quoted}`);
      }
      await c.query(`
        DO $$ BEGIN
          GRANT ${RUNTIME_ROLES[app]} TO ${login.user};
        EXCEPTION WHEN unique_violation THEN NULL; -- granted by a concurrent run
        END $$`);
    }
  } finally {
    await c.end();
  }
}

/** The same server and database as `ownerUrl`, signed in as `login`. */
export function runtimeUrl(ownerUrl: string, login: RuntimeLogin): string {
  const url = new URL(ownerUrl);
  url.username = login.user;
  url.password = login.password ?? '';
  return url.toString();
}

const LOGIN_URL_VARIABLES: Record<RuntimeApp, string> = {
  gateway: 'GATEWAY_DATABASE_URL',
  cdsHooks: 'CDS_HOOKS_DATABASE_URL',
  inferenceProxy: 'INFERENCE_PROXY_DATABASE_URL',
};

/** Each app's login (user and password) from its runtime URL variable, for those set. */
export function runtimeLoginsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Partial<Record<RuntimeApp, RuntimeLogin>> {
  const logins: Partial<Record<RuntimeApp, RuntimeLogin>> = {};
  for (const [app, variable] of Object.entries(LOGIN_URL_VARIABLES) as Array<[RuntimeApp, string]>) {
    const raw = env[variable]?.trim();
    if (!raw) continue;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`${variable} is not a URL`);
    }
    const user = decodeURIComponent(url.username);
    if (!user) throw new Error(`${variable} names no user`);
    logins[app] = { user, ...(url.password ? { password: decodeURIComponent(url.password) } : {}) };
  }
  return logins;
}
