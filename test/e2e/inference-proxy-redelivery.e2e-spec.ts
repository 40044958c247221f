import { randomUUID } from 'node:crypto';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { queryRows } from '../support/postgres';
import { inferenceRequest, startProxyHarness, type ProxyHarness } from './inference-proxy-harness';

async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A replica stopped in the middle of an inference, with no grace: its offset was never committed (the
 * result was not stored), so the next replica in the group gets the message again and completes it once.
 */
describe('inference proxy: a replica lost mid-inference', () => {
  let double: ModelDouble;
  let first: ProxyHarness | undefined;
  let second: ProxyHarness | undefined;

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    await double?.close();
  });

  it('redelivers the message to another replica, which runs and records it once', async () => {
    double = await startModelDouble({ flavour: 'vllm', latency: { ttftMs: 2_000, perTokenMs: 0 } });
    const backends = [{ id: 'vllm@double', kind: 'vllm' as const, baseUrl: double.baseUrl }];
    const env = { KAFKA_GROUP_ID: `e2e-redelivery-${randomUUID()}`, SHUTDOWN_GRACE_MS: '0', RESULT_FLUSH_MS: '5' };
    first = await startProxyHarness(backends, env);
    const req = inferenceRequest({ temperature: 0.7 });
    await first.publish([req]);
    await until(() => double.stats().inFlight === 1);

    // The first replica goes away with the call still running at the backend.
    await first.proxy.close();
    double.setLatency({ ttftMs: 0, perTokenMs: 0 });
    expect(
      await queryRows(first.db.url, `SELECT 1 FROM inference_results WHERE request_id = $1`, [req.requestId]),
    ).toHaveLength(0);

    second = await startProxyHarness(backends, env, { kafka: first.kafka, db: first.db });
    const [row] = await second.results([req.requestId], 30_000);
    expect(row).toMatchObject({ outcome: 'ok', status: 'completed' });
    await new Promise((r) => setTimeout(r, 2_500)); // the abandoned call finishes at the double meanwhile
    const rows = await queryRows(first.db.url, `SELECT 1 FROM inference_results WHERE request_id = $1`, [
      req.requestId,
    ]);
    expect(rows).toHaveLength(1);
    const audit = await queryRows(
      first.db.url,
      `SELECT 1 FROM audit_events WHERE action = 'inference.completed' AND request_id = $1`,
      [req.requestId],
    );
    expect(audit).toHaveLength(1);
    expect(double.requests().filter((r) => r.path === '/v1/completions')).toHaveLength(2);
  });
});
