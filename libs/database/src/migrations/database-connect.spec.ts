import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { QueryRunner } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres';
import { runMigrations } from '../data-source';
import { provisionRuntimeLogins, runtimeUrl } from '../roles/runtime-roles';
import { DatabaseConnect1764550000000 } from './1764550000000-database-connect';

/** Who may connect (and so LISTEN to the reply path's NOTIFY, which carries model output) after the migrations. */
describe('migration DatabaseConnect1764550000000', () => {
  let db: TestDatabase;
  const suffix = randomBytes(3).toString('hex');
  const stranger = `meditron_test_stranger_${suffix}`;
  const member = `meditron_test_cds_connect_${suffix}`;

  async function asAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  /** The SQLSTATE of connecting as `user`, or 'ok'. */
  async function connectAs(user: string): Promise<string> {
    const c = new Client({ connectionString: runtimeUrl(db.url, { user }) });
    try {
      await c.connect();
      await c.query('LISTEN meditron_results');
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code ?? 'error';
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('db_connect');
    await runMigrations(db.url);
    await provisionRuntimeLogins(db.url, { cdsHooks: { user: member } });
    await asAdmin((c) => c.query(`CREATE ROLE ${stranger} LOGIN`));
  });

  afterAll(async () => {
    await db?.drop();
    await asAdmin(async (c) => {
      await c.query(`DROP ROLE IF EXISTS ${stranger}`);
      await c.query(`DROP ROLE IF EXISTS ${member}`);
    }).catch(() => undefined);
  });

  it('lets an app login connect and LISTEN, and refuses a login of no app role', async () => {
    expect(await connectAs(member)).toBe('ok');
    // 42501 insufficient_privilege: "permission denied for database".
    expect(await connectAs(stranger)).toBe('42501');
  });

  it('is undone by its down (PUBLIC may connect again), and applied again by its up', async () => {
    const migration = new DatabaseConnect1764550000000();
    await asAdmin((c) => migration.down(runnerOn(c)));
    expect(await connectAs(stranger)).toBe('ok');
    await asAdmin((c) => migration.up(runnerOn(c)));
    expect(await connectAs(stranger)).toBe('42501');
    expect(await connectAs(member)).toBe('ok');
  });

  it('run by a role that neither owns the database nor is a superuser, changes nothing and warns', async () => {
    const migration = new DatabaseConnect1764550000000();
    await asAdmin(async (c) => {
      await c.query(`GRANT CONNECT ON DATABASE ${db.name} TO ${stranger}`);
      const warnings: string[] = [];
      c.on('notice', (n) => warnings.push(n.message ?? ''));
      await c.query(`SET ROLE ${stranger}`);
      await migration.up(runnerOn(c));
      await c.query('RESET ROLE');
      expect(warnings.join('\n')).toMatch(/left to its owner: REVOKE CONNECT ON DATABASE/);
      await c.query(`REVOKE CONNECT ON DATABASE ${db.name} FROM ${stranger}`);
    });
    expect(await connectAs(member)).toBe('ok');
  });
});

/** The one QueryRunner method a migration here calls, on a plain connection (so a test can choose its role). */
function runnerOn(c: Client): QueryRunner {
  const runner = { query: async (sql: string, params?: unknown[]) => (await c.query(sql, params)).rows };
  return runner as unknown as QueryRunner;
}
