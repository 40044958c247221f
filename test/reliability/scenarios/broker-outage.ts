import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@app/contracts';
import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import type { ReliabilityStack } from '../support/stack';
import { driveTraffic } from '../support/traffic';

/** The broker leading partition 0 of the request topic (the mock never moves leadership). */
async function leaderOfPartitionZero(stack: ReliabilityStack): Promise<number> {
  const admin = new Kafka({
    clientId: 'reliability-admin',
    brokers: stack.kafka.bootstrapServers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [Topics.inferenceRequests] });
    const leader = topics[0]?.partitions.find((p) => p.partitionId === 0)?.leader;
    if (leader === undefined) throw new Error('no leader for partition 0');
    return leader;
  } finally {
    await admin.disconnect();
  }
}

/** 1. The broker leading a partition goes down for 3 s mid-traffic and comes back. */
export async function brokerOutage(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const leader = await leaderOfPartitionZero(stack);
  const target = stack.cds[0]!.url;
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  const calls = await driveTraffic({
    count: 40,
    intervalMs: 200,
    target: () => target,
    events: [
      { atMs: 2_000, run: () => stack.kafka.brokerDown(leader) },
      { atMs: 5_000, run: () => stack.kafka.brokerUp(leader) },
    ],
  });
  return tally({
    scenario: '1 broker down and up',
    dbUrl: stack.db.url,
    double: stack.double,
    mark,
    calls,
    startedAt,
    notes: [`broker ${leader} (leader of partition 0 of ${Topics.inferenceRequests}) down from 2 s to 5 s`],
  });
}
