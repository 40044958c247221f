import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { runMigrations, startEmbeddedPostgres } from '@app/database';
import { allMigrations } from './migrations';

describe('embedded Postgres (PGlite) with the real migrations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meditron-pglite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates, keeps data across restarts and refuses audit rewrites', async () => {
    let pg = await startEmbeddedPostgres({ dataDir: dir });
    expect(await runMigrations(pg.url)).toEqual(allMigrations.map((m) => m.name));
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    await client.query(
      `INSERT INTO audit_events (recorded_at, action, outcome, service, detail) VALUES (now(), 'test.action', 'success', 'spec', '{}')`,
    );
    await expect(client.query(`UPDATE audit_events SET action = 'x'`)).rejects.toThrow(
      /append-only \(UPDATE refused\)/,
    );
    await expect(client.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only \(DELETE refused\)/);
    await client.end();
    await pg.stop();

    pg = await startEmbeddedPostgres({ dataDir: dir });
    expect(await runMigrations(pg.url)).toEqual([]);
    const again = new Client({ connectionString: pg.url });
    await again.connect();
    const { rows } = await again.query<{ action: string }>(`SELECT action FROM audit_events`);
    expect(rows.map((r) => r.action)).toEqual(['test.action']);
    await again.end();
    await pg.stop();
    // Two PGlite boots and every migration: about 17 s on a quiet 2-core machine, over 30 s on a loaded one.
  }, 120_000);
});
