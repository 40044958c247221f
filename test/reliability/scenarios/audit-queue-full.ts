import { Client } from 'pg';
import { queryRows } from '../../support/postgres';
import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import type { ReliabilityStack } from '../support/stack';
import { callHook, until } from '../support/traffic';

const QUEUE_MAX = 24;
const BURST = 16;

/**
 * 11. The audit queue is driven full: a replica with AUDIT_QUEUE_MAX=24 gets a burst of 16 calls (32 events) while
 * another session holds the audit chain head (every audit INSERT waits). Calls whose event finds the queue full are
 * answered 503 + Retry-After (OperationOutcome `transient`); every event accepted is written once it is released.
 */
export async function auditQueueFull(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const replica = await stack.startCdsHooks({ AUDIT_QUEUE_MAX: String(QUEUE_MAX) });
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  const blocker = new Client({ connectionString: stack.db.url });
  await blocker.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM audit_chain_head FOR UPDATE');
    // Nothing drains while the head is held: 24 events get in, the other 8 of the 32 the calls need are refused.
    // Callers are released by AUDIT_MAX_WAIT_MS (their events are in the spool), so every call ends while held.
    const calls = await Promise.all(Array.from({ length: BURST }, () => callHook(replica.url)));
    await blocker.query('ROLLBACK');
    const refused = calls.filter((c) => c.status === 503).length;
    // The tally reads the audit rows once; give the released queue (and the spool) time to drain first. If they
    // never arrive, the tally counts them lost.
    const answered = calls.filter((c) => c.status === 200).map((c) => c.requestId);
    await until(
      'audit events of the answered calls',
      async () => {
        const [row] = await queryRows<{ n: string }>(
          stack.db.url,
          `SELECT count(DISTINCT request_id)::text AS n FROM audit_events
            WHERE action = 'hook.answered' AND request_id = ANY($1::text[])`,
          [answered],
        );
        return Number(row?.n ?? 0) >= answered.length ? true : undefined;
      },
      30_000,
    ).catch(() => undefined);
    return await tally({
      scenario: '11 audit queue full',
      dbUrl: stack.db.url,
      double: stack.double,
      mark,
      calls,
      startedAt,
      refusedIsAnswer: true,
      notes: [
        `${BURST} concurrent calls, audit chain head held until all answered, AUDIT_QUEUE_MAX=${QUEUE_MAX}: ${refused} answered 503 + Retry-After, statuses ${[...new Set(calls.map((c) => c.status))].join('/')}`,
      ],
    });
  } finally {
    await blocker.end().catch(() => undefined);
    await replica.stop(5_000);
  }
}
