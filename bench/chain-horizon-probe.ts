/**
 * Issue 17 probe (not part of `npm run bench`): what a held snapshot does to the cost of a chained audit row.
 *
 * For each chain design (the head row updated per event: all migrations but AuditChainTail1764560000000; the tail
 * table: all migrations) and each condition (free; a REPEATABLE READ transaction holding its snapshot open the whole
 * time, as a statement waiting for the chain's lock or any long statement does), a fresh migrated database takes
 * `--rounds` rounds of `--rows` events as 4-row INSERTs on one connection, and the wall time per chained row of each
 * round is printed. A held snapshot keeps Postgres from pruning the versions an UPDATE leaves: if the cost per row
 * grows round by round, the design pays for every event since the snapshot was taken.
 *
 *   npx node --require ./bench/register.js bench/chain-horizon-probe.ts [--rows=2000] [--rounds=8]
 *
 * Needs the machine's Postgres (TEST_POSTGRES_URL, as the tests). Wall time on a shared machine: compare the rounds of
 * one run (the trend), not runs.
 */
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { batchInsert, queuedAuditRow } from '../libs/audit/src/audit-batch-insert';
import { allMigrations } from '../libs/database/src/migrations';
import { createTestDatabase } from '../test/support/postgres';

const arg = (name: string, fallback: number): number => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : fallback;
};
const ROWS = arg('rows', 2000);
const ROUNDS = arg('rounds', 8);
const TAIL = 'AuditChainTail1764560000000';

async function run(design: 'head row' | 'tail table', held: boolean): Promise<number[]> {
  const db = await createTestDatabase('chain_horizon');
  const ds = new DataSource({
    type: 'postgres',
    url: db.url,
    migrations: design === 'tail table' ? allMigrations : allMigrations.filter((m) => m.name !== TAIL),
    logging: false,
  });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  const holder = new Client({ connectionString: db.url });
  const writer = new Client({ connectionString: db.url });
  await holder.connect();
  await writer.connect();
  try {
    if (held) {
      await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await holder.query('SELECT count(*) FROM audit_events');
    }
    const perRow: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      for (let i = 0; i < ROWS; i += 4) {
        const rows = Array.from({ length: 4 }, () =>
          queuedAuditRow({ action: 'hook.answered', outcome: 'success', service: 'cds-hooks', detail: { cards: 1 } }),
        );
        const { sql, params } = batchInsert(rows);
        await writer.query({ name: 'chain-horizon-4', text: sql, values: params });
      }
      perRow.push((performance.now() - t) / ROWS);
    }
    if (held) await holder.query('ROLLBACK');
    return perRow;
  } finally {
    await holder.end();
    await writer.end();
    await db.drop();
  }
}

void (async () => {
  process.stdout.write(`ms per chained row, by round of ${ROWS} rows (4-row INSERTs, one writer)\n`);
  for (const design of ['head row', 'tail table'] as const) {
    for (const held of [false, true]) {
      const perRow = await run(design, held);
      process.stdout.write(
        `${design.padEnd(10)} ${held ? 'snapshot held' : 'free         '}: ${perRow.map((v) => v.toFixed(3)).join(' ')}\n`,
      );
    }
  }
})().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
