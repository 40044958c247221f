import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import type { ReliabilityStack } from '../support/stack';
import { driveTraffic } from '../support/traffic';

/** 4. Every model backend answers 503 (and fails its health check) for 3 s, then recovers. */
export async function modelOutage(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const target = stack.cds[0]!.url;
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  const calls = await driveTraffic({
    count: 30,
    intervalMs: 200,
    target: () => target,
    events: [
      { atMs: 1_000, run: async () => stack.double.injectFault({ kind: 'unavailable' }) },
      { atMs: 4_000, run: async () => stack.double.clearFaults() },
    ],
  });
  return tally({
    scenario: '4 every backend 503',
    dbUrl: stack.db.url,
    double: stack.double,
    mark,
    calls,
    startedAt,
    notes: ['model double fault `unavailable` (503 on generation, /health and /v1/models) from 1 s to 4 s'],
  });
}
