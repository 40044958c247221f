import { queryRows } from '../../support/postgres';
import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import type { ReliabilityStack } from '../support/stack';
import { driveTraffic } from '../support/traffic';

/** 3. Every connection to the suite's database is cut, three times, mid-traffic. */
export async function dbConnectionsCut(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const target = stack.cds[0]!.url;
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  const cut: number[] = [];
  const terminate = async (): Promise<void> => {
    const rows = await queryRows<{ n: string }>(
      stack.pg.adminUrl,
      `SELECT count(*)::text AS n FROM (
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()) t`,
      [stack.db.name],
    );
    cut.push(Number(rows[0]?.n ?? 0));
  };
  const calls = await driveTraffic({
    count: 40,
    intervalMs: 200,
    target: () => target,
    events: [1_500, 3_500, 5_500].map((atMs) => ({ atMs, run: terminate })),
  });
  return tally({
    scenario: '3 Postgres connections cut',
    dbUrl: stack.db.url,
    double: stack.double,
    mark,
    calls,
    startedAt,
    notes: [`pg_terminate_backend at 1.5 s, 3.5 s, 5.5 s cut ${cut.join(' + ')} connections`],
  });
}
