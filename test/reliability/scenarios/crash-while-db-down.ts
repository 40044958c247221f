import * as fs from 'node:fs';
import * as path from 'node:path';
import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import type { ReliabilityStack } from '../support/stack';
import { driveTraffic, sleep } from '../support/traffic';

/** Audit events on disk in the spools (lines of every segment; some may already be committed). */
function spooledLines(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const sub of fs.readdirSync(dir)) {
    for (const f of fs.readdirSync(path.join(dir, sub))) {
      n += fs.readFileSync(path.join(dir, sub, f), 'utf8').split('\n').length - 1;
    }
  }
  return n;
}

/**
 * 7. Postgres crashes (pg_ctl stop -m immediate) with calls and results in flight; a second later, while it is
 * still down, cds-hooks and the proxy are SIGKILLed; then Postgres, the proxy and cds-hooks are started again.
 * Audit events released to their callers during the outage exist only in the spools when the processes die.
 */
export async function crashWhileDbDown(stack: ReliabilityStack): Promise<ScenarioCounts> {
  let cds = stack.cds.find((c) => c.running)!;
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  const notes: string[] = [];
  const outage = async (): Promise<void> => {
    await stack.pg.stop('immediate');
    const downAt = Date.now();
    await sleep(1_200);
    const spooled = spooledLines(stack.spoolDir);
    const [cdsExit, proxyExit] = await Promise.all([cds.kill(), stack.proxy.kill()]);
    notes.push(
      `Postgres crashed at 1.5 s; cds-hooks (${cdsExit.signal}) and proxy (${proxyExit.signal}) killed ${Date.now() - downAt} ms later with ${spooled} spooled lines on disk`,
    );
    await stack.pg.start();
    [, cds] = await Promise.all([stack.startProxy(), stack.startCdsHooks()]);
    notes.push(`everything back ${Date.now() - downAt} ms after the crash`);
  };
  const calls = await driveTraffic({
    count: 30,
    intervalMs: 200,
    target: () => cds.url,
    events: [{ atMs: 1_500, run: outage }],
  });
  return tally({
    scenario: '7 SIGKILL cds-hooks + proxy while Postgres is down',
    dbUrl: stack.db.url,
    double: stack.double,
    mark,
    calls,
    startedAt,
    notes,
  });
}
