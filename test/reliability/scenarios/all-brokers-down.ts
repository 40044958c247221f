import { queryRows } from '../../support/postgres';
import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import { BUDGET_MS, type ReliabilityStack } from '../support/stack';
import { driveTraffic } from '../support/traffic';

/** Inference deadline of the replica used here: early requests of the outage expire unpublished, later ones run. */
const DEADLINE_MS = 10_000;
const OUTAGE_MS = 3 * BUDGET_MS;

/**
 * 9. Every broker is down for three hook budgets, then back. Calls are answered in budget (without cards); each
 * committed request is published later by the outbox relay and answered, or recorded expired once its deadline
 * passed. Runs on a replica of its own with a 10 s inference deadline.
 */
export async function allBrokersDown(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const replica = await stack.startCdsHooks({ INFERENCE_DEADLINE_MS: String(DEADLINE_MS) });
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  const brokers = [0, 1, 2].map((i) => i + 1);
  let waiting = 0;
  try {
    const calls = await driveTraffic({
      count: 45,
      intervalMs: 200,
      target: () => replica.url,
      events: [
        { atMs: 1_500, run: async () => void (await Promise.all(brokers.map((b) => stack.kafka.brokerDown(b)))) },
        {
          atMs: 1_500 + OUTAGE_MS,
          run: async () => {
            const rows = await queryRows<{ n: number }>(
              stack.db.url,
              `SELECT count(*)::int AS n FROM inference_outbox`,
            );
            waiting = rows[0]?.n ?? 0;
            await Promise.all(brokers.map((b) => stack.kafka.brokerUp(b)));
          },
        },
      ],
    });
    return await tally({
      scenario: '9 all brokers down 3x the budget',
      dbUrl: stack.db.url,
      double: stack.double,
      mark,
      calls,
      startedAt,
      completionTimeoutMs: 60_000,
      notes: [
        `brokers ${brokers.join(', ')} down from 1.5 s for ${OUTAGE_MS} ms; ${waiting} requests in the outbox when they came back`,
      ],
    });
  } finally {
    await replica.stop(5_000);
  }
}
