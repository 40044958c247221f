/**
 * Child of bench/gateway-cpu.ts: the gateway of one tree (GWCPU_TREE) alone in this process, on a fresh Postgres
 * database, through that tree's own test harness (migrations, runtime login, the client registered), forwarding to
 * the parent's upstream stand-in (GWCPU_UPSTREAM). Reports its URL over IPC; stops on 'stop'.
 */
import { join } from 'node:path';
import type { EhrClient } from '@app/clients';

interface Harness {
  readonly url: string;
  readonly publicBaseUrl: string;
  stop(): Promise<void>;
}
type StartHarness = (opts: { clients: EhrClient[]; env?: Record<string, string> }) => Promise<Harness>;

async function main(): Promise<void> {
  const tree = process.env.GWCPU_TREE ?? join(__dirname, '..');
  const client = JSON.parse(process.env.GWCPU_CLIENT ?? '{}') as EhrClient;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the tree under test's own harness
  const { startGatewayHarness } = require(join(tree, 'test', 'support', 'gateway-harness')) as {
    startGatewayHarness: StartHarness;
  };
  const harness = await startGatewayHarness({
    clients: [client],
    env: {
      LOG_LEVEL: process.env.GWCPU_LOG_LEVEL ?? 'info',
      CDS_HOOKS_URL: process.env.GWCPU_UPSTREAM ?? '',
      DB_POOL_SIZE: '10',
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
      EDGE_RATE_LIMIT_PER_SECOND: '100000',
      EDGE_RATE_LIMIT_BURST: '100000',
    },
  });
  process.on('message', (m) => {
    if (m === 'stop') void harness.stop().then(() => process.exit(0));
  });
  process.send?.({ type: 'ready', url: harness.url, publicBaseUrl: harness.publicBaseUrl });
}
main().catch((e: unknown) => {
  process.send?.({ type: 'failed', error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
