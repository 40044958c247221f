import { brokerOutage } from './scenarios/broker-outage';
import { dbConnectionsCut } from './scenarios/db-connections-cut';
import { duplicates } from './scenarios/duplicates';
import { modelOutage } from './scenarios/model-outage';
import { proxyCrash } from './scenarios/proxy-crash';
import { replicaScaling } from './scenarios/replica-scaling';
import { expectNothingLostOrDoubled } from './support/expectations';
import type { ScenarioCounts } from './support/ledger';
import { writeResults } from './support/results-file';
import { startReliabilityStack, type ReliabilityStack } from './support/stack';

/**
 * Reliability under faults (issue 10): steady hook traffic while one part of the system fails, then counts from
 * the answers, the database and the model double. Results: test/artifacts/reliability/results.{json,md}.
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
});
