import { randomUUID } from 'node:crypto';
import { queryRows } from '../../support/postgres';
import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import { NORMAL_TTFT_MS, type ReliabilityStack } from '../support/stack';
import { publishCopies, readRequestMessages } from '../support/topic-copy';
import { callHook, newMarker, sleep, until, type HookCall } from '../support/traffic';

/** The inference request a hook call (by its x-request-id) started. */
async function inferenceIdOf(dbUrl: string, hookRequestId: string): Promise<string> {
  return until(
    `inference request of ${hookRequestId}`,
    async () => {
      const rows = await queryRows<{ request_id: string }>(
        dbUrl,
        `SELECT r.request_id FROM inference_requests r JOIN hook_invocations h ON h.id = r.hook_invocation_id
          WHERE h.request_id = $1`,
        [hookRequestId],
      );
      return rows[0]?.request_id;
    },
    10_000,
  );
}

/**
 * 5. The same hook call delivered twice (one after the other, and two at once), and the same Kafka message
 * delivered twice (once after its result is stored, once while its inference is still running).
 */
export async function duplicates(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const target = stack.cds[0]!.url;
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  const calls: HookCall[] = [];

  const [m1, h1] = [newMarker(), randomUUID()];
  calls.push(await callHook(target, m1, h1));
  calls.push(await callHook(target, m1, h1));
  const [m2, h2] = [newMarker(), randomUUID()];
  calls.push(...(await Promise.all([callHook(target, m2, h2), callHook(target, m2, h2)])));

  // Call C: its inference is still running at the model when its message is delivered again.
  stack.double.setLatency({ ttftMs: 12_000, perTokenMs: 0 });
  const slowRequestId = randomUUID();
  const slow = callHook(target, newMarker(), randomUUID(), slowRequestId);
  const slowId = await inferenceIdOf(stack.db.url, slowRequestId);
  await until('call C at the model', async () => (stack.double.stats().inFlight > 0 ? true : undefined), 10_000);
  stack.double.setLatency({ ttftMs: NORMAL_TTFT_MS, perTokenMs: 0 });
  const storedId = await inferenceIdOf(stack.db.url, calls[0]!.requestId);
  const copies = await readRequestMessages(stack.kafka.bootstrapServers, [slowId, storedId]);
  const inFlightWhenCopied = stack.double.stats().inFlight;
  await publishCopies(stack.kafka.bootstrapServers, copies);
  calls.push(await slow);
  await sleep(2_000); // time for the proxy to take both copies
  return tally({
    scenario: '5 duplicate hook calls and messages',
    dbUrl: stack.db.url,
    double: stack.double,
    mark,
    calls,
    startedAt,
    notes: [
      'hook call A sent twice in a row, hook call B twice at once (same hookInstance each)',
      `request message of A copied onto the topic after its result was stored, of C while its inference ran (${inFlightWhenCopied} in flight)`,
    ],
  });
}
