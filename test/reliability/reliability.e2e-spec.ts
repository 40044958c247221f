import { allBrokersDown } from './scenarios/all-brokers-down';
import { auditQueueFull } from './scenarios/audit-queue-full';
import { brokerOutage } from './scenarios/broker-outage';
import { crashWhileDbDown } from './scenarios/crash-while-db-down';
import { dbConnectionsCut } from './scenarios/db-connections-cut';
import { duplicates } from './scenarios/duplicates';
import { gatewayRestart } from './scenarios/gateway-restart';
import { identicalCalls } from './scenarios/identical-calls';
import { modelOutage } from './scenarios/model-outage';
import { postgresRestart } from './scenarios/postgres-restart';
import { proxyCrash } from './scenarios/proxy-crash';
import { replicaScaling } from './scenarios/replica-scaling';
import { expectNothingAcceptedLost, expectNothingLostOrDoubled } from './support/expectations';
import type { ScenarioCounts } from './support/ledger';
import { writeResults } from './support/results-file';
import { startReliabilityStack, type ReliabilityStack } from './support/stack';

/**
 * Reliability under faults (issues 10, 18): steady hook traffic while one part of the system fails, then counts
 * from the answers, the database and the model double. Results: test/artifacts/reliability/results.{json,md}.
 */
describe('reliability under faults', () => {
  const started = Date.now();
  const results: ScenarioCounts[] = [];
  let stack: ReliabilityStack;

  beforeAll(async () => {
    stack = await startReliabilityStack();
  }, 240_000);

  afterAll(async () => {
    writeResults(results, Date.now() - started);
    await stack?.stop();
  }, 60_000);

  const scenario = (
    name: string,
    run: (s: ReliabilityStack) => Promise<ScenarioCounts>,
    check = expectNothingLostOrDoubled,
  ) =>
    it(
      name,
      async () => {
        const counts = await run(stack);
        results.push(counts);
        check(counts);
      },
      120_000,
    );

  scenario('a Kafka broker leading a partition goes down mid-traffic and comes back', brokerOutage);
  scenario('the inference proxy is SIGKILLed mid-inference and restarted', proxyCrash);
  scenario('every Postgres connection is cut mid-traffic', dbConnectionsCut);
  scenario('every model backend answers 503 for a while, then recovers', modelOutage);
  scenario('the same hook call and the same Kafka message are delivered twice', duplicates);
  scenario('cds-hooks is scaled from one replica to two and back while traffic flows', replicaScaling);

  // Issue 18: durability.
  scenario(
    'cds-hooks and the proxy are SIGKILLed while Postgres is down, then all restarted',
    crashWhileDbDown,
    (c) => {
      expectNothingAcceptedLost(c);
      expect(c.auditReplayed).toBeGreaterThan(0);
      expect(c.promptsNeverRun).toBe(0);
      expect(c.resultsNotOk).toBe(0);
    },
  );
  scenario('the whole Postgres server is restarted mid-traffic', postgresRestart, (c) => {
    expectNothingAcceptedLost(c);
    expect(c.promptsNeverRun).toBe(0);
    expect(c.answeredInBudget).toBe(c.accepted);
  });
  scenario('every broker is down for three hook budgets, then back', allBrokersDown, (c) => {
    expectNothingAcceptedLost(c);
    expect(c.accepted).toBe(c.requestsSent);
    expect(c.answeredInBudget).toBe(c.accepted);
    // Every committed request answered later (a result, or an error if it reached the model too close to its
    // deadline) or recorded expired: none silently dropped.
    expect(c.resultsStored).toBe(c.inferenceRequests);
    expect(c.resultsExpired).toBeGreaterThan(0);
  });
  scenario('the gateway (in the path, its own process) is restarted mid-traffic', gatewayRestart, (c) => {
    expectNothingAcceptedLost(c);
    expect(c.answeredInBudget).toBe(c.accepted);
    expect(c.resultsNotOk).toBe(0);
    // Issue 14: each app process on its own runtime login, none of them the owner or a superuser; no other
    // connection (cds-hooks' LISTEN connection for results is on its login, when it is up at that moment).
    const login = (url: string) => new URL(url).username;
    const expected: Record<string, string> = {
      'meditron-cds-hooks': login(stack.appUrls.cdsHooks),
      'meditron-cds-results': login(stack.appUrls.cdsHooks),
      'meditron-gateway': login(stack.appUrls.gateway),
      'meditron-inference-proxy': login(stack.appUrls.inferenceProxy),
    };
    const seen = c.appLogins ?? [];
    expect(seen).toEqual(
      seen.map((l) => ({ application: l.application, login: expected[l.application], superuser: false, owner: false })),
    );
    expect(seen.map((l) => l.application)).toEqual(
      expect.arrayContaining(['meditron-cds-hooks', 'meditron-gateway', 'meditron-inference-proxy']),
    );
  });
  scenario('the audit queue is driven full', auditQueueFull, (c) => {
    expectNothingAcceptedLost(c);
    expect(c.failed).toBeGreaterThan(0);
    // The documented answer and no other: 200, or 503 + Retry-After.
    expect(c.notes[0]).toMatch(/statuses (200|503)(\/(200|503))*$/);
  });
  scenario('identical hook calls arrive at once at two replicas', identicalCalls, (c) => {
    expectNothingLostOrDoubled(c);
    expect(c.inferenceRequests).toBe(1);
    expect(c.modelRuns).toBe(1);
  });
});
