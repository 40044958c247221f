/**
 * Issue 17 probe (not part of `npm run bench`): Postgres backend CPU per hook-path statement.
 *
 * On a fresh migrated test database (test/support/postgres.ts), each statement of a fresh hook runs `--n` times in a
 * row on one dedicated connection, as a named prepared statement (as libs/database/src/statements/hot-query.ts runs
 * them), with realistic parameters; the backend (pg_backend_pid()) is read from /proc before and after: its exact
 * on-CPU time from /proc/<pid>/schedstat, its system share from utime/stime in /proc/<pid>/stat (10 ms ticks, as
 * test/support/pg-backend-cpu.ts reads them). CPU µs per statement, and per row for the audit batches. The phases
 * run in hook order over `--n` hooks (claim, hook_start, hook.invoked, progress, result store with its
 * inference.completed event, result read, hook.answered, cards, outbox delete), so each statement meets the rows
 * the earlier ones wrote, as in production. Then one-row audit INSERTs from `--writers` connections at once (the
 * chain head's lock contended), and `--fresh` new connections that each run one hook (the warm-up of a backend).
 *
 * `--without=<MigrationName>[,<MigrationName>...]` also measures a second database migrated without those
 * migrations (the "before"), alternating rounds between the two databases so both see the same machine load.
 *
 *   npx node --require ./bench/register.js bench/pg-statement-cpu.ts [--n=2000] [--rounds=5] [--writers=4,8]
 *     [--fresh=100] [--without=AuditChainWriterQueue1764540000000,HookAnswerClassificationTrigger1764540100000]
 *     [--only=hook_start,cards] [--out=bench/results-issue-17-pg-statements.md]
 *
 * Needs the machine's Postgres (TEST_POSTGRES_URL, as the tests) on this host: /proc of its backends is read. A
 * loaded machine adds noise (other processes evict caches, contend for the cores): compare the two databases of one
 * run, not separate runs.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { batchInsert, queuedAuditRow, type QueuedAuditRow } from '../libs/audit/src/audit-batch-insert';
import type { AuditRecord } from '../libs/audit/src/audit-record';
import type { AuditDetail } from '../libs/database/src';
import { allMigrations } from '../libs/database/src/migrations';
import { JWT_REPLAY_CLAIM_SQL } from '../libs/auth/src/pg-replay-guard.service';
import { ANSWERED_SQL } from '../libs/database/src/repositories/hook-invocation.repository';
import { OUTBOX_DELETE_SQL, START_SQL } from '../libs/database/src/repositories/inference-outbox.repository';
import {
  REQUEST_PROGRESS_SQL,
  RESULTS_OF_SQL,
  resultStoreStatement,
} from '../libs/database/src/repositories/inference.repository';
import { statementName } from '../libs/database/src/statements/hot-query';
import { clockTicksPerSecond } from '../test/support/pg-backend-cpu';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres';

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const N = Number(arg('n', '2000'));
const ROUNDS = Number(arg('rounds', '3'));
const WITHOUT = arg('without', '')
  .split(',')
  .filter((s) => s !== '');
const OUT = arg('out', 'bench/results-issue-17-pg-statements.md');
/**
 * `--only=<text>[,<text>...]`: run only the phases whose name contains one of them, e.g. to profile one statement with
 * `perf record -p <backend pid>` (a phase that needs an earlier one's rows needs it listed too: hook_start first).
 */
const ONLY = arg('only', '')
  .split(',')
  .filter((s) => s !== '');
/** Concurrent audit writers for the contention phases (each a connection of its own, N statements in all). */
/** New connections (each a new backend) that each run one fresh hook's nine statements, for the warm-up cost. */
const FRESH = Number(arg('fresh', '100'));
const WRITERS = arg('writers', '4,8')
  .split(',')
  .filter((s) => s !== '')
  .map(Number);

interface Hook {
  readonly invocationId: string;
  readonly requestId: string;
  readonly hookInstance: string;
  readonly patientRef: string;
  readonly promptHash: string;
  readonly receivedAt: Date;
}

function newHook(i: number): Hook {
  return {
    invocationId: randomUUID(),
    requestId: randomUUID(),
    hookInstance: randomUUID(),
    patientRef: `Patient/${1000 + (i % 400)}`,
    promptHash: createHash('sha256').update(randomUUID()).digest('hex'),
    receivedAt: new Date(),
  };
}

function auditRow(h: Hook, action: string, service: AuditRecord['service'], detail: AuditDetail): QueuedAuditRow {
  return queuedAuditRow({
    action,
    outcome: 'success',
    service,
    clientId: 'ehr-client-1',
    patientRef: service === 'cds-hooks' ? h.patientRef : null,
    requestId: service === 'cds-hooks' ? randomUUID() : h.requestId,
    hookInstance: h.hookInstance,
    detail,
  });
}

function invokedDetail(h: Hook): AuditDetail {
  return {
    serviceId: 'meditron-patient-view',
    hook: 'patient-view',
    inferenceRequestId: h.requestId,
    reused: 'none',
    promptHash: h.promptHash,
    templateVersion: 'pv-2026.11.1',
    promptTokens: 1843,
    factsLeftOut: 2,
  };
}

interface Phase {
  readonly name: string;
  /** Audit rows (or other rows) each statement writes, for "per row" figures. */
  readonly rows?: number;
  run(c: Client, h: Hook, i: number): Promise<unknown>;
}

const card = (h: Hook) => ({
  uuid: randomUUID(),
  indicator: 'info',
  content: {
    summary: 'Consider reviewing renal dosing',
    indicator: 'info',
    detail: 'eGFR 42 mL/min/1.73m2; metformin dose above the renal limit. '.repeat(4),
    source: { label: 'Meditron CDS' },
    uuid: h.invocationId,
  },
});

function phases(): Phase[] {
  const q = (c: Client, text: string, values: unknown[], prepare = true) =>
    c.query(prepare ? { name: statementName(text), text, values } : { text, values });
  const audit = (rows: number): Phase => ({
    name: rows === 1 ? 'audit INSERT hook.answered (1 row)' : `audit INSERT batch of ${rows} rows`,
    rows,
    run: (c, h) => {
      const { sql, params } = batchInsert(
        Array.from({ length: rows }, () => auditRow(h, 'hook.answered', 'cds-hooks', { serviceId: 'x', cards: 1 })),
      );
      return q(c, sql, params);
    },
  });
  return [
    {
      name: 'jwt_replay_claim',
      run: (c) =>
        q(c, JWT_REPLAY_CLAIM_SQL, [
          createHash('sha256').update(randomUUID()).digest('hex'),
          new Date(Date.now() + 300_000),
        ]),
    },
    {
      name: 'hook_start (created)',
      run: (c, h) =>
        q(c, START_SQL, [
          true,
          h.invocationId,
          h.hookInstance,
          'patient-view',
          'meditron-patient-view',
          randomUUID(),
          'ehr-client-1',
          h.patientRef,
          h.receivedAt,
          'meditron-7b',
          'pv-2026.11.1',
          h.promptHash,
          new Date(h.receivedAt.getTime() - 60_000),
          3,
          h.requestId,
          1,
          new Date(h.receivedAt.getTime() + 8_000),
          JSON.stringify({ promptTokens: 1843, facts: { conditions: 12, medications: 9 }, omitted: { labs: 2 } }),
          new Date(),
          JSON.stringify({ request: { requestId: h.requestId, prompt: 'x'.repeat(1500) }, headers: { a: 1 } }),
          new Date(h.receivedAt.getTime() + 10_000),
          new Date(h.receivedAt.getTime() - 60_000),
        ]),
    },
    {
      name: 'audit INSERT hook.invoked (1 row)',
      rows: 1,
      run: (c, h) => {
        const { sql, params } = batchInsert([auditRow(h, 'hook.invoked', 'cds-hooks', invokedDetail(h))]);
        return q(c, sql, params);
      },
    },
    { name: 'progress check', run: (c, h) => q(c, REQUEST_PROGRESS_SQL, [h.requestId]) },
    {
      name: 'result store + inference.completed (1 row)',
      rows: 1,
      run: (c, h) => {
        const event = auditRow(h, 'inference.completed', 'inference-proxy', {
          model: 'meditron-7b',
          promptHash: h.promptHash,
          templateVersion: 'pv-2026.11.1',
          backend: 'double',
          servedFrom: 'model',
          attempts: 1,
          resultOutcome: 'ok',
          errorCode: null,
          latencyMs: 3,
          tokensIn: 1843,
          tokensOut: 120,
        });
        // The statement the proxy sends in in-process mode (no NOTIFY): one row, its inference.completed alongside.
        const store = resultStoreStatement(
          [
            {
              requestId: h.requestId,
              status: 'completed',
              outcome: 'ok',
              backend: 'double',
              outputText: '{"cards":[{"summary":"Consider reviewing renal dosing"}]}'.repeat(3),
              errorCode: null,
              tokensIn: 1843,
              tokensOut: 120,
              latencyMs: 3,
              completedAt: new Date(),
              hookInstance: h.hookInstance,
              model: 'meditron-7b',
              templateVersion: 'pv-2026.11.1',
              promptHash: h.promptHash,
              attempts: 1,
              servedFrom: 'model',
            },
          ],
          (offset) => batchInsert([event], offset),
        );
        return q(c, store.sql, store.params);
      },
    },
    { name: 'result read', run: (c, h) => q(c, RESULTS_OF_SQL, [[h.requestId]]) },
    audit(1),
    {
      name: 'cards insert CTE (1 card, 0 suggestions)',
      run: (c, h) =>
        q(c, ANSWERED_SQL, [
          h.invocationId,
          h.requestId,
          'meditron-patient-view',
          'answered',
          new Date(),
          JSON.stringify([card(h)]),
          '[]',
          1,
          JSON.stringify({ cards: 1, reused: 'none' }),
        ]),
    },
    { name: 'outbox DELETE (1 id)', run: (c, h) => q(c, OUTBOX_DELETE_SQL, [[h.requestId]]) },
    audit(4),
  ];
}

/**
 * A backend's CPU: [total, system] in µs. The total is the scheduler's exact on-CPU time (/proc/<pid>/schedstat,
 * nanoseconds), not tick-sampled; the system share comes from utime/stime (/proc/<pid>/stat, 10 ms ticks), which only
 * the split needs. Falls back to the ticks when schedstat is unreadable.
 */
function cpuOf(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const usPerTick = 1_000_000 / clockTicksPerSecond();
  const [user, system] = [Number(fields[11]) * usPerTick, Number(fields[12]) * usPerTick];
  let total = user + system;
  try {
    total = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    // no schedstat: ticks
  }
  return [total, system];
}

interface Connection {
  readonly client: Client;
  readonly pid: number;
}

interface Target extends Connection {
  readonly label: string;
  readonly db: TestDatabase;
  /** The contention phases' writers (the largest of WRITERS). */
  readonly writers: Connection[];
}

async function connect(url: string): Promise<Connection> {
  const client = new Client({ connectionString: url, application_name: 'meditron-pg-statement-cpu' });
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return { client, pid: rows[0]!.pid };
}

async function migrated(label: string, without: readonly string[]): Promise<Target> {
  const db = await createTestDatabase('pg_statement_cpu');
  const ds = new DataSource({
    type: 'postgres',
    url: db.url,
    migrations: allMigrations.filter((m) => !without.includes(m.name)),
    logging: false,
  });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  const main = await connect(db.url);
  const writers = await Promise.all(Array.from({ length: Math.max(0, ...WRITERS) }, () => connect(db.url)));
  return { label, db, ...main, writers };
}

/** The one-row audit INSERT (hook.answered) `n` times on `c`. */
async function auditInserts(c: Client, n: number): Promise<void> {
  const h = newHook(0);
  for (let i = 0; i < n; i++) {
    const { sql, params } = batchInsert([auditRow(h, 'hook.answered', 'cds-hooks', { serviceId: 'x', cards: 1 })]);
    await c.query({ name: statementName(sql), text: sql, values: params });
  }
}

/**
 * µs of backend CPU per new connection that runs one fresh hook's nine statements: the backend from its fork (its
 * /proc counters start there) through authentication, catalog caches, plpgsql compilation and the statements'
 * first preparation. Read just before the connection closes; summed over FRESH backends (a tick is 10 ms: one
 * backend's figure is coarse, the sum is not).
 */
async function freshConnections(t: Target): Promise<[number, number]> {
  const hookPhases = phases().slice(0, -1);
  let total = 0;
  let system = 0;
  for (let i = 0; i < FRESH; i++) {
    const c = await connect(t.db.url);
    const h = newHook(i);
    for (const p of hookPhases) await p.run(c.client, h, i);
    const [all, sys] = cpuOf(c.pid);
    total += all;
    system += sys;
    await c.client.end();
  }
  return [total / FRESH, system / FRESH];
}

/** µs of CPU per statement over `w` backends writing one-row audit INSERTs at once, `N` statements in all. */
async function contended(t: Target, w: number): Promise<[number, number]> {
  const writers = t.writers.slice(0, w);
  const sum = () => writers.map((c) => cpuOf(c.pid)).reduce(([a, s], [a1, s1]) => [a + a1, s + s1], [0, 0]);
  const [a0, s0] = sum();
  await Promise.all(writers.map((c) => auditInserts(c.client, Math.ceil(N / w))));
  const [a1, s1] = sum();
  const n = Math.ceil(N / w) * w;
  return [(a1 - a0) / n, (s1 - s0) / n];
}

/** µs of backend CPU (user + system, and system alone) per statement for each phase, one round of `N` hooks. */
async function round(t: Target): Promise<Array<[number, number]>> {
  const hooks = Array.from({ length: N }, (_, i) => newHook(i));
  const out: Array<[number, number]> = [];
  for (const p of phases()) {
    if (ONLY.length > 0 && !ONLY.some((o) => p.name.includes(o))) {
      out.push([NaN, NaN]);
      continue;
    }
    const [a0, s0] = cpuOf(t.pid);
    for (let i = 0; i < N; i++) await p.run(t.client, hooks[i]!, i);
    const [a1, s1] = cpuOf(t.pid);
    out.push([(a1 - a0) / N, (s1 - s0) / N]);
  }
  for (const w of WRITERS) out.push(await contended(t, w));
  if (FRESH > 0) out.push(await freshConnections(t));
  return out;
}

interface HotRow {
  relname: string;
  n_tup_upd: string;
  n_tup_hot_upd: string;
}

/** Updates and HOT updates of the tables the hook path updates (a non-HOT update writes every index again). */
async function hotUpdates(c: Client): Promise<HotRow[]> {
  await c.query('SELECT pg_stat_force_next_flush()');
  await c.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await c.query<HotRow>(
    `SELECT relname, n_tup_upd::text, n_tup_hot_upd::text FROM pg_stat_user_tables
      WHERE relname IN ('hook_invocations', 'inference_requests', 'audit_chain_head') ORDER BY relname`,
  );
  return rows;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const targets = [await migrated('all migrations', [])];
  if (WITHOUT.length > 0) targets.push(await migrated(`without ${WITHOUT.join(', ')}`, WITHOUT));
  const hookPhases = phases().map((p) => p.name);
  const fresh = FRESH > 0 ? ['one fresh hook on a new connection (its backend from fork)'] : [];
  const names = [...hookPhases, ...WRITERS.map((w) => `audit INSERT (1 row), ${w} writers at once`), ...fresh];
  const rowsOf = [...phases().map((p) => p.rows), ...WRITERS.map(() => 1), ...fresh.map(() => undefined)];
  const samples = targets.map(() => names.map((): number[] => []));
  const hot: Array<{ label: string; rows: HotRow[] }> = [];
  const system = targets.map(() => names.map((): number[] => []));
  try {
    // One warm-up round each (plans cached, catalog caches loaded), then alternate.
    for (const t of targets) await round(t);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [ti, t] of targets.entries()) {
        const us = await round(t);
        us.forEach(([all, sys], pi) => {
          samples[ti]![pi]!.push(all);
          system[ti]![pi]!.push(sys);
        });
        process.stderr.write(`round ${r + 1}/${ROUNDS} ${t.label}: ${us.map(([v]) => v.toFixed(0)).join(' ')}\n`);
      }
    }
    for (const t of targets) hot.push({ label: t.label, rows: await hotUpdates(t.client) });
  } finally {
    for (const t of targets) {
      for (const w of t.writers) await w.client.end();
      await t.client.end();
      await t.db.drop();
    }
  }
  const header =
    `| statement | ${targets.map((t) => `µs/stmt (${t.label})`).join(' | ')} | of which system ` +
    `(${targets[0]!.label}) | µs/row (${targets[0]!.label}) |`;
  const lines = [
    `# Postgres CPU per hook-path statement (issue 17 probe)`,
    '',
    `bench/pg-statement-cpu.ts, ${new Date().toISOString()}: ${N} statements per phase per round, median of ${ROUNDS} ` +
      `rounds (after one warm-up round), one dedicated connection, named prepared statements, backend on-CPU time ` +
      `from /proc/<pid>/schedstat (system share from utime/stime, tick ${1000 / clockTicksPerSecond()} ms). ` +
      `Rounds alternate between the databases.`,
    '',
    header,
    `|---|${targets.map(() => '---:|').join('')}---:|---:|`,
    ...names.map((n, pi) => {
      const meds = targets.map((_t, ti) => median(samples[ti]![pi]!));
      const perRow = rowsOf[pi] ? (meds[0]! / rowsOf[pi]).toFixed(0) : '';
      const sys = median(system[0]![pi]!).toFixed(0);
      return `| ${n} | ${meds.map((m) => m.toFixed(0)).join(' | ')} | ${sys} | ${perRow} |`;
    }),
  ];
  // One fresh hook: the one-connection phases but the 4-row batch (the last of them).
  const totals = targets.map((_t, ti) =>
    hookPhases
      .slice(0, -1)
      .reduce((a, _n, pi) => a + median(samples[ti]![pi]!), 0)
      .toFixed(0),
  );
  lines.push(`| **one fresh hook (the first nine phases)** | ${totals.join(' | ')} | | |`, '');
  lines.push(
    'Raw per-round figures (µs/stmt, phase order as above):',
    '',
    ...targets.map(
      (t, ti) =>
        `- ${t.label}: ${names.map((_n, pi) => samples[ti]![pi]!.map((v) => v.toFixed(0)).join('/')).join(', ')}`,
    ),
    '',
  );
  lines.push(
    'Updates that were HOT (heap-only: no index entries written), over all rounds:',
    '',
    ...hot.map(
      (h) => `- ${h.label}: ${h.rows.map((r) => `${r.relname} ${r.n_tup_hot_upd}/${r.n_tup_upd}`).join(', ')}`,
    ),
    '',
  );
  const text = lines.join('\n');
  writeFileSync(OUT, text);
  process.stdout.write(`${text}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
