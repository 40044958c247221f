/**
 * Kafka transport (librdkafka mock cluster): the three apps in one process (`hooks-kafka`) or as deployed, three
 * processes (`hooks-deployed-kafka`). Same ladders as single-process Postgres, so the knees compare.
 */
import { Topics } from '@app/contracts';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '@app/testing/kafka-broker/mock-kafka';
import { createTestDatabase, type TestDatabase } from '@app/testing/postgres';
import { calibrateDouble, doubleControl, realisticLatency, startDouble, type Double } from '../lib/double-control';
import { QUICK, ZERO, ZERO_RATES } from '../lib/options';
import { stopChild } from '../lib/procs';
import type { PartRecord } from '../lib/results';
import { ramp, warmUp } from '../lib/steps';
import { startDeployed, startSut, sutEnv, type Sut } from '../lib/sut-control';

export const seriesName = (mode: 'single' | 'deployed', profile: 'zero' | 'realistic'): string =>
  `${mode === 'single' ? 'kafka/pg' : 'deployed kafka/pg'} ${profile === 'zero' ? 'model 0 ms' : 'model 300+10x150'}`;

/** A mock Kafka cluster with the inference topics, a fresh database, the double and the SUT in `mode`. */
export async function withKafkaSut(
  p: PartRecord,
  mode: 'single' | 'deployed',
  body: (sut: Sut, double: Double, dbUrl: string) => Promise<void>,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  let kafka: MockKafka | undefined;
  try {
    kafka = await startMockKafka({
      brokers: 1,
      topics: [
        { name: Topics.inferenceRequests, partitions: 3 },
        { name: Topics.inferenceRequestsDeadLetter, partitions: 1 },
      ],
    });
    db = await createTestDatabase(mode === 'single' ? 'bench_kafka' : 'bench_deployed');
    double = await startDouble();
    const env = sutEnv({
      DATABASE_URL: db.url,
      INFERENCE_BACKENDS: `vllm=${double.baseUrl}`,
      KAFKA_BROKERS: kafka.bootstrapServers.join(','),
      KAFKA_MAX_WAIT_MS: String(fastKafkaConsumerConfig.maxWaitTimeInMs),
      KAFKA_SESSION_TIMEOUT_MS: String(fastKafkaConsumerConfig.sessionTimeout),
      KAFKA_HEARTBEAT_MS: String(fastKafkaConsumerConfig.heartbeatInterval),
      ...extraEnv,
    });
    if (mode === 'single') sut = await startSut(env);
    else {
      const deployed = await startDeployed(env);
      sut = deployed;
      p.notes.push(`apps run as ${deployed.how}`);
    }
    p.notes.push(
      `${mode === 'single' ? 'one process' : 'three processes (gateway, cds-hooks, inference-proxy; each its own Postgres login, ports and metrics listener)'}; ` +
        `transport: ${sut.ready.mode.transport} (librdkafka mock cluster, 1 broker, 3 partitions; KAFKA_MAX_WAIT_MS=${fastKafkaConsumerConfig.maxWaitTimeInMs}: the mock answers an idle fetch only after the full wait)`,
    );
    await body(sut, double, db.url);
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await kafka?.stop().catch(() => undefined);
    await db?.drop().catch(() => undefined);
  }
}

export async function kafkaMode(p: PartRecord, mode: 'single' | 'deployed'): Promise<void> {
  await withKafkaSut(p, mode, async (sut, double) => {
    const zero = await calibrateDouble(double, 'zero');
    await doubleControl(double, 'latency', realisticLatency);
    const real = await calibrateDouble(double, 'realistic');
    p.extra.doubleOwnTimeMs = { zero, realistic: real };
    await doubleControl(double, 'latency', ZERO);
    await warmUp(sut);
    await ramp(p, sut, double, seriesName(mode, 'zero'), 'zero', 0, ZERO_RATES);
    await doubleControl(double, 'latency', realisticLatency);
    await ramp(p, sut, double, seriesName(mode, 'realistic'), 'realistic', real.p50, QUICK ? [25] : [25, 50, 100]);
  });
}
