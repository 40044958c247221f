/** The inference proxy's OpenAI facade against calling the double directly and against Portkey's gateway. */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DIRECT_CHAT_BODY, type Double } from '../lib/double-control';
import { packageVersion } from '../lib/meta';
import { FACADE_KEY, log, QUICK, STEP_S } from '../lib/options';
import { REPO_DIR, spawnService } from '../lib/procs';
import type { PartRecord } from '../lib/results';
import { round } from '../lib/stats';
import { load } from '../lib/steps';
import type { Sut } from '../lib/sut-control';
import type { LoadResult } from '../lib/types';

export const PORTKEY_PORT = 18787;

export async function startPortkey(p: PartRecord): Promise<ChildProcess> {
  const entry = join(REPO_DIR, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  const child = await spawnService(
    process.execPath,
    [entry, `--port=${PORTKEY_PORT}`, '--headless'],
    async () => (await fetch(`http://127.0.0.1:${PORTKEY_PORT}/`)).status < 500,
    30_000,
  );
  p.notes.push(
    `Portkey gateway ${packageVersion('@portkey-ai/gateway')} on 127.0.0.1:${PORTKEY_PORT} (provider openai, custom host = the double)`,
  );
  return child;
}

export interface FacadeRow {
  target: string;
  connections: number;
  result: LoadResult;
  overheadP50: number | null;
  overheadP99: number | null;
}

export async function facadeComparison(
  p: PartRecord,
  sut: Sut,
  d: Double,
  portkeyPort: number | undefined,
): Promise<FacadeRow[]> {
  const targets: Array<{ target: string; origin: string; path: string; headers: Record<string, string> }> = [
    { target: 'direct (model double)', origin: d.url, path: '/v1/chat/completions', headers: {} },
    {
      target: 'inference-proxy facade',
      origin: sut.ready.inferenceProxyUrl,
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${FACADE_KEY}` },
    },
  ];
  if (portkeyPort) {
    targets.push({
      target: '@portkey-ai/gateway',
      origin: `http://127.0.0.1:${portkeyPort}`,
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer unused', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': d.baseUrl },
    });
  }
  // The facade relays to the proxy's backend pool: point that pool at this double for the comparison.
  const rows: FacadeRow[] = [];
  for (const connections of QUICK ? [16] : [16, 64]) {
    for (const t of targets) {
      const r = await load.run({
        name: `${t.target} c=${connections}`,
        origin: t.origin,
        paths: [t.path],
        method: 'POST',
        headers: { 'content-type': 'application/json', ...t.headers },
        auth: { kind: 'none' },
        body: { kind: 'static', text: DIRECT_CHAT_BODY },
        mode: 'closed',
        connections,
        durationS: STEP_S,
        timeoutMs: 10_000,
      });
      rows.push({ target: t.target, connections, result: r, overheadP50: null, overheadP99: null });
      log(
        `  ${t.target} c=${connections}: ${r.throughputRps} req/s p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} errors ${r.errors} ${r.firstError ?? ''}`,
      );
    }
  }
  for (const row of rows) {
    const direct = rows.find((r) => r.connections === row.connections && r.target.startsWith('direct'));
    if (!direct || row === direct) continue;
    row.overheadP50 = round(row.result.latencyMs.p50 - direct.result.latencyMs.p50);
    row.overheadP99 = round(row.result.latencyMs.p99 - direct.result.latencyMs.p99);
  }
  p.notes.push(
    'The facade targets the proxy whose backend pool is the hook double; the direct and Portkey rows hit a second, identical double process. ' +
      'Overhead = p50/p99 through the proxy minus p50/p99 direct at the same concurrency.',
  );
  return rows;
}
