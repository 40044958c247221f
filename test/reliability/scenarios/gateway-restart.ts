import { AppProcess } from '../../support/app-process';
import { makeTestKey } from '../../support/ehr-tokens';
import { appLogins } from '../support/app-logins';
import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import type { ReliabilityStack } from '../support/stack';
import { driveTraffic } from '../support/traffic';

/**
 * 10. The traffic goes through the gateway (its own process: EHR JWT checked, call forwarded to cds-hooks), and
 * the gateway is SIGKILLed mid-traffic and started again on its port. Calls it held are cut (cds-hooks still
 * finishes and records them); calls sent while it is down are refused at the TCP level.
 */
export async function gatewayRestart(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const cds = stack.cds.find((c) => c.running)!;
  const key = await makeTestKey('ES384');
  let gateway: AppProcess = await stack.startGateway(cds, key);
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  let gapMs = 0;
  let exit = '';
  try {
    const calls = await driveTraffic({
      count: 30,
      intervalMs: 200,
      ehrKey: key,
      target: () => gateway.url,
      events: [
        {
          atMs: 2_000,
          run: async () => {
            const t0 = Date.now();
            const info = await gateway.kill();
            exit = info.signal ?? `code ${String(info.code)}`;
            gateway = await stack.startGateway(cds, key, gateway.port);
            gapMs = Date.now() - t0;
          },
        },
      ],
    });
    // All three apps are busy right now, so their pools hold connections: which logins are they?
    const logins = await appLogins(stack.db.url);
    const counts = await tally({
      scenario: '10 gateway restart (traffic through it)',
      dbUrl: stack.db.url,
      double: stack.double,
      mark,
      calls,
      startedAt,
      notes: [`gateway killed (${exit}) at 2 s and listening again ${gapMs} ms later`],
    });
    return { ...counts, appLogins: logins };
  } finally {
    await gateway.stop(5_000);
  }
}
