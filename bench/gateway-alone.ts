/**
 * Child of bench/gateway-cpu.ts: the gateway of one tree (GWCPU_TREE) alone in this process, on a fresh Postgres
 * database, through that tree's own test harness (migrations, runtime login, the client registered), forwarding to
 * the parent's upstream stand-in (GWCPU_UPSTREAM). Reports its URL over IPC; stops on 'stop'. With GWCPU_STAGES=1
 * it also times the stages of each call (wrapping the tree's own classes) and answers 'stages' with their medians.
 */
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { EhrClient } from '@app/clients';

interface Harness {
  readonly url: string;
  readonly publicBaseUrl: string;
  stop(): Promise<void>;
}
type StartHarness = (opts: { clients: EhrClient[]; env?: Record<string, string> }) => Promise<Harness>;

const stages = new Map<string, number[]>();

function record(stage: string, ms: number): void {
  const xs = stages.get(stage) ?? [];
  xs.push(ms);
  stages.set(stage, xs);
}

/** Wraps an async method of a class so each call's wall time is recorded under `stage`. */
function timeMethod(cls: { prototype: object }, method: string, stage: string): void {
  const proto = cls.prototype as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = proto[method];
  if (!original) throw new Error(`no ${method} to time`);
  proto[method] = async function timed(this: unknown, ...args: unknown[]): Promise<unknown> {
    const t = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      record(stage, performance.now() - t);
    }
  };
}

function medians(): Record<string, { n: number; p50: number; p90: number }> {
  const out: Record<string, { n: number; p50: number; p90: number }> = {};
  for (const [k, xs] of stages) {
    const s = [...xs].sort((a, b) => a - b);
    const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 1000) / 1000;
    out[k] = { n: s.length, p50: at(0.5), p90: at(0.9) };
  }
  return out;
}

async function main(): Promise<void> {
  const tree = process.env.GWCPU_TREE ?? join(__dirname, '..');
  const client = JSON.parse(process.env.GWCPU_CLIENT ?? '{}') as EhrClient;
  /* eslint-disable @typescript-eslint/no-require-imports -- the tree under test's own modules */
  const load = <T>(path: string): T => require(join(tree, path)) as T;
  const { startGatewayHarness } = load<{ startGatewayHarness: StartHarness }>('test/support/gateway-harness');
  if (process.env.GWCPU_STAGES === '1') {
    type Cls = { prototype: object };
    const auth = load<Record<string, Cls>>('libs/auth/src/index');
    timeMethod(auth['CdsJwtVerifier']!, 'verify', 'verify (signature + replay claim)');
    timeMethod(auth['PgReplayGuard']!, 'claim', 'replay claim');
    const reader = load<Record<string, Cls>>('apps/gateway/src/forwarding/json-body-reader.service');
    timeMethod(reader['JsonBodyReader']!, 'readText', 'body read + check');
    const up = load<Record<string, Cls>>('apps/gateway/src/forwarding/cds-hooks-upstream.service');
    timeMethod(up['CdsHooksUpstream']!, 'forward', 'upstream call');
    const guard = load<Record<string, Cls>>('apps/gateway/src/auth/ehr-auth.guard');
    timeMethod(guard['EhrAuthGuard']!, 'canActivate', 'auth guard');
    // Whole calls: from the request's arrival at the server to its answer's last byte handed to the socket.
    const emit = Server.prototype.emit;
    Server.prototype.emit = function timedEmit(this: Server, event: string | symbol, ...args: unknown[]): boolean {
      const [req, res] = args as [IncomingMessage, ServerResponse];
      if (event === 'request' && req.url?.startsWith('/cds-services/')) {
        const t = performance.now();
        res.once('finish', () => record('server total', performance.now() - t));
      }
      return (emit as (event: string | symbol, ...rest: unknown[]) => boolean).call(this, event, ...args);
    };
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
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
    if (m === 'stages') {
      process.send?.({ type: 'stages', stages: medians() });
      stages.clear();
    }
  });
  process.send?.({ type: 'ready', url: harness.url, publicBaseUrl: harness.publicBaseUrl });
}
main().catch((e: unknown) => {
  process.send?.({ type: 'failed', error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
