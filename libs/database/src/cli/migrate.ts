import { runMigrations } from '../data-source';

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL. */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('db:migrate: DATABASE_URL is not set\n');
    process.exit(2);
  }
  const ran = await runMigrations(url);
  process.stdout.write(ran.length ? `applied: ${ran.join(', ')}\n` : 'schema is up to date\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`db:migrate failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
