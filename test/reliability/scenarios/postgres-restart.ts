import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import type { ReliabilityStack } from '../support/stack';
import { driveTraffic } from '../support/traffic';

/** 8. The suite's Postgres server is restarted whole (pg_ctl stop -m fast, then start) mid-traffic. */
export async function postgresRestart(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const target = stack.cds.find((c) => c.running)!.url;
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  let downMs = 0;
  const calls = await driveTraffic({
    count: 30,
    intervalMs: 200,
    target: () => target,
    events: [
      {
        atMs: 2_000,
        run: async () => {
          const t0 = Date.now();
          await stack.pg.stop('fast');
          await stack.pg.start();
          downMs = Date.now() - t0;
        },
      },
    ],
  });
  return tally({
    scenario: '8 Postgres server restart',
    dbUrl: stack.db.url,
    double: stack.double,
    mark,
    calls,
    startedAt,
    notes: [`server stopped (fast) and started again at 2 s, refusing connections for ${downMs} ms`],
  });
}
