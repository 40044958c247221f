import type { AppProcess } from '../../support/app-process';
import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import { NORMAL_TTFT_MS, type ReliabilityStack } from '../support/stack';
import { driveTraffic, sleep } from '../support/traffic';

/** Model latency here: long enough that calls are waiting at a replica when it is stopped. */
const BUSY_TTFT_MS = 900;
/** Between leaving the rotation and SIGTERM: longer than one call interval, far shorter than the chart's preStop. */
const ENDPOINTS_SETTLE_MS = 500;

/**
 * 6. cds-hooks scaled from one replica to two and back while traffic flows: calls alternate over the replicas in
 * rotation; the second starts mid-traffic; the first is taken out of rotation and stopped (SIGTERM) with calls
 * still waiting for their results.
 */
export async function replicaScaling(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const first = stack.cds.find((c) => c.running)!;
  const rotation: AppProcess[] = [first];
  const mark = markDouble(stack.double);
  stack.double.setLatency({ ttftMs: BUSY_TTFT_MS, perTokenMs: 0 });
  const startedAt = Date.now();
  let exit = '';
  let second: AppProcess | undefined;
  try {
    const calls = await driveTraffic({
      count: 45,
      intervalMs: 200,
      target: (i) => rotation[i % rotation.length]?.url,
      events: [
        {
          atMs: 1_500,
          run: async () => {
            second = await stack.startCdsHooks();
            rotation.push(second);
          },
        },
        {
          atMs: 6_000,
          run: async () => {
            rotation.splice(rotation.indexOf(first), 1);
            // As in the cluster (the chart's preStop sleep): the replica leaves the endpoints before SIGTERM, so a
            // call already routed to it is not raced against the closing server on a reused keep-alive socket.
            await sleep(ENDPOINTS_SETTLE_MS);
            const info = await first.stop();
            exit = info.signal ?? `code ${String(info.code)}`;
          },
        },
      ],
    });
    const perReplica = [first, second].map((r) => calls.filter((c) => c.target === r?.url).length);
    return tally({
      scenario: '6 cds-hooks 1 -> 2 -> 1 replicas',
      dbUrl: stack.db.url,
      double: stack.double,
      mark,
      calls,
      startedAt,
      notes: [
        `calls per replica ${perReplica.join(' / ')}; second started at 1.5 s, first stopped (SIGTERM) at 6 s, exited with ${exit}`,
      ],
    });
  } finally {
    stack.double.setLatency({ ttftMs: NORMAL_TTFT_MS, perTokenMs: 0 });
  }
}
