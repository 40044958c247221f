import { runMigrations } from '../data-source';
import { provisionRuntimeLogins, runtimeLoginsFromEnv } from '../roles/runtime-roles';

/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL (the schema owner), then, for each of
 * GATEWAY_DATABASE_URL / CDS_HOOKS_DATABASE_URL / INFERENCE_PROXY_DATABASE_URL that is set, creates that login if
 * missing (password from the URL) and makes it a member of the app's runtime role.
 */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('db:migrate: DATABASE_URL is not set\n');
    process.exit(2);
  }
  const logins = runtimeLoginsFromEnv(process.env);
  const ran = await runMigrations(url);
  process.stdout.write(ran.length ? `applied: ${ran.join(', ')}\n` : 'schema is up to date\n');
  if (Object.keys(logins).length > 0) {
    await provisionRuntimeLogins(url, logins);
    process.stdout.write(
      `runtime logins: ${Object.values(logins)
        .map((l) => l.user)
        .join(', ')}\n`,
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`db:migrate failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
