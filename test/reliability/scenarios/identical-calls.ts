import { randomUUID } from 'node:crypto';
import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import type { ReliabilityStack } from '../support/stack';
import { callHook, newMarker } from '../support/traffic';

const CALLS = 8;

/**
 * 12. Identical hook calls (same patient context, so the same prompt; each its own hookInstance) arrive at the same
 * moment at two replicas: one inference request row and one model run serve them all.
 */
export async function identicalCalls(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const first = stack.cds.find((c) => c.running)!;
  const second = await stack.startCdsHooks();
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  try {
    const marker = newMarker();
    const calls = await Promise.all(
      Array.from({ length: CALLS }, (_, i) => callHook((i % 2 === 0 ? first : second).url, marker, randomUUID())),
    );
    return await tally({
      scenario: '12 identical concurrent calls on 2 replicas',
      dbUrl: stack.db.url,
      double: stack.double,
      mark,
      calls,
      startedAt,
      notes: [`${CALLS} calls with one prompt, half to each replica, sent at once`],
    });
  } finally {
    await second.stop(5_000);
  }
}
