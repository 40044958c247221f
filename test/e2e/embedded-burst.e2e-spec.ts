import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { cdsResponseProblems } from '../support/cds-conformance';
import { stackToken } from '../support/ehr-tokens';
import { queryRows } from '../support/postgres';
import { testStackEnv } from '../support/stack-env';
import { prefetchFromSynthea } from '../support/synthea';

const PATIENTS = [
  'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json',
  'Daisey_Johns_e916a083-8ee6-4df8-acbe-b711fa791253.json',
  'Christin_Stiedemann_fc6aaaa5-0461-420d-b96c-ebeacc303b51.json',
] as const;
const SERVICE = 'meditron-patient-view';
const CALLS = 60;
const IN_FLIGHT = 24;

/**
 * `npm start`'s default database under a burst: embedded PGlite serves every app's pool through one session, so
 * concurrent calls must queue there, never fail (issue 17: 500s at 50 hooks/s when batches interleaved).
 */
describe('embedded PGlite stack under a burst of concurrent hook calls', () => {
  let stack: LocalStack;
  const dataDir = mkdtempSync(join(tmpdir(), 'meditron-e2e-pglite-burst-'));

  beforeAll(async () => {
    stack = await startLocalStack({
      env: testStackEnv({
        // One client from one address sends the whole burst: the gateway's rate limits are not under test here.
        RATE_LIMIT_PER_SECOND: '10000',
        RATE_LIMIT_BURST: '10000',
        EDGE_RATE_LIMIT_PER_SECOND: '10000',
        EDGE_RATE_LIMIT_BURST: '10000',
      }),
      dataDir,
      modelDoublePort: 0,
    });
    expect(stack.mode).toEqual({ database: 'embedded', transport: 'in-process', model: 'double' });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every call 200 with a spec-valid response and records each one in full', async () => {
    const calls = Array.from({ length: CALLS }, (_, i) => {
      const { patientId, prefetch } = prefetchFromSynthea(PATIENTS[i % PATIENTS.length]!);
      const hookInstance = randomUUID();
      return {
        hookInstance,
        body: { hookInstance, hook: 'patient-view', context: { userId: 'Practitioner/example', patientId }, prefetch },
      };
    });
    const answers: Array<{ hookInstance: string; status: number; problems: string[]; requestId: string | null }> = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < calls.length) {
          const call = calls[next++]!;
          const res = await fetch(`${stack.gatewayUrl}/cds-services/${SERVICE}`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${await stackToken(stack, `/cds-services/${SERVICE}`)}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify(call.body),
          });
          const text = await res.text();
          answers.push({
            hookInstance: call.hookInstance,
            status: res.status,
            // A failed call keeps its body (an OperationOutcome, no patient data) for the failure message.
            problems: res.status === 200 ? cdsResponseProblems(JSON.parse(text) as Record<string, unknown>) : [text],
            requestId: res.headers.get('x-request-id'),
          });
        }
      }),
    );

    expect(answers).toHaveLength(CALLS);
    for (const a of answers) expect(a).toMatchObject({ status: 200, problems: [] });

    const ids = calls.map((c) => c.hookInstance);
    const invocations = await queryRows<{ hook_instance: string; status: string; request_id: string }>(
      stack.databaseUrl,
      `SELECT hook_instance::text AS hook_instance, status, request_id FROM hook_invocations WHERE hook_instance = ANY($1::uuid[])`,
      [ids],
    );
    expect(invocations).toHaveLength(CALLS);
    const requestIds = new Map(answers.map((a) => [a.hookInstance, a.requestId]));
    for (const inv of invocations) {
      expect(['answered', 'answered_empty']).toContain(inv.status);
      expect(inv.request_id).toBe(requestIds.get(inv.hook_instance));
    }

    const audit = await queryRows<{ hook_instance: string; actions: string[] }>(
      stack.databaseUrl,
      `SELECT hook_instance::text AS hook_instance, array_agg(action || ':' || outcome ORDER BY id) AS actions
         FROM audit_events WHERE hook_instance = ANY($1::uuid[]) AND service = 'cds-hooks'
        GROUP BY hook_instance`,
      [ids],
    );
    expect(audit).toHaveLength(CALLS);
    for (const row of audit) expect(row.actions).toEqual(['hook.invoked:success', 'hook.answered:success']);
  }, 300_000);
});
