import { Client } from 'pg';
import { round, summarize } from './stats';
import type { LatencySummary } from './types';

export interface AuditGeneration {
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerS: number;
  readonly batchRows: number;
  /** One statement of `singleStatementRows` through the chain trigger, for comparison with the batches. */
  readonly singleStatementRows: number;
  readonly singleStatementS: number;
  readonly analyzeS: number;
  readonly tableMb: number;
  readonly indexMb: number;
  readonly from: string;
  readonly to: string;
  readonly samplePatients: string[];
  readonly sampleWindows: Array<[string, string]>;
  readonly sampleClients: string[];
  readonly exportWindow: [string, string];
  readonly distribution: Array<{ action: string; n: number }>;
  readonly chainHeadId: string;
}

const DAYS = 90;

/**
 * Realistic-looking audit rows (90 days, time increasing with id; 8 EHR clients skewed towards the first,
 * 20,000 patients with a heavy head, 2,000 clinicians; hook events carry a hook instance), inserted through
 * the hash-chain trigger. `$1..$2` is the slice of the series; `$3` the window start.
 */
const INSERT = `
INSERT INTO audit_events (recorded_at, action, outcome, service, actor, client_id, tenant, patient_ref, request_id,
  hook_instance, detail)
SELECT $3::timestamptz + (g * ($4::float8 / $5::float8)) * interval '1 second',
  a.action,
  CASE WHEN a.action = 'auth.refused' THEN 'refused' WHEN random() < 0.03 THEN 'failure' ELSE 'success' END,
  a.service,
  CASE WHEN a.action IN ('inference.completed') THEN NULL ELSE 'clinician-' || floor(2000 * random() ^ 2)::int END,
  'ehr-' || floor(8 * random() ^ 2)::int,
  'hospital-' || (ARRAY['a','a','a','b','c'])[1 + floor(random() * 5)::int],
  'Patient/p' || floor(20000 * random() ^ 3)::int,
  'req-' || g,
  CASE WHEN a.action LIKE 'hook.%' OR a.action = 'inference.completed' THEN gen_random_uuid() END,
  jsonb_build_object('ms', floor(random() * 900)::int, 'template', 'patient-view@1')
FROM generate_series($1::bigint, $2::bigint) g
CROSS JOIN LATERAL (
  SELECT CASE
    WHEN r < 0.24 THEN 'hook.invoked' WHEN r < 0.47 THEN 'inference.completed' WHEN r < 0.70 THEN 'hook.answered'
    WHEN r < 0.85 THEN 'fhir.read' WHEN r < 0.93 THEN 'fhir.search' WHEN r < 0.96 THEN 'feedback.received'
    WHEN r < 0.98 THEN 'auth.refused' ELSE 'compliance.search' END AS action,
  CASE WHEN r >= 0.24 AND r < 0.47 THEN 'inference-proxy' WHEN r >= 0.96 THEN 'gateway' ELSE 'cds-hooks' END AS service
  FROM (SELECT random() + 0 * g AS r) x
) a`;

export async function generateAuditRows(
  url: string,
  total: number,
  progress: (msg: string) => void,
): Promise<AuditGeneration> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const to = new Date(Date.now() - 3_600_000);
    const from = new Date(to.getTime() - DAYS * 86_400_000);
    const spanS = DAYS * 86_400;
    // Monthly partitions for the whole window (retention drops whole months), not the DEFAULT partition.
    await c.query(`SELECT audit_events_ensure_partitions(3, $1::date)`, [from.toISOString().slice(0, 10)]);
    const single = Math.min(10_000, Math.floor(total / 10));
    let s = performance.now();
    await c.query(INSERT, [1, single, from.toISOString(), spanS, total]);
    const singleS = (performance.now() - s) / 1000;
    progress(
      `audit: ${single} rows in one INSERT ... SELECT generate_series through the chain trigger: ${round(singleS)} s`,
    );
    const batch = 2000;
    s = performance.now();
    let last = performance.now();
    for (let start = single + 1; start <= total; start += batch) {
      await c.query(INSERT, [start, Math.min(total, start + batch - 1), from.toISOString(), spanS, total]);
      if (performance.now() - last > 15_000) {
        last = performance.now();
        progress(
          `audit: ${start + batch - 1} / ${total} rows, ${Math.round((start - single) / ((last - s) / 1000))} rows/s`,
        );
      }
    }
    const batchedS = (performance.now() - s) / 1000;
    const a = performance.now();
    await c.query('ANALYZE audit_events');
    const analyzeS = (performance.now() - a) / 1000;
    const size = (
      await c.query<{ t: string; i: string }>(
        `SELECT sum(pg_table_size(inhrelid))::text AS t, sum(pg_indexes_size(inhrelid))::text AS i
         FROM pg_inherits WHERE inhparent = 'audit_events'::regclass`,
      )
    ).rows[0]!;
    const patients = (
      await c.query<{ p: string }>(`SELECT patient_ref AS p FROM audit_events TABLESAMPLE SYSTEM (1) LIMIT 200`)
    ).rows.map((r) => r.p);
    const windows: Array<[string, string]> = Array.from({ length: 200 }, (_, i) => {
      const t = from.getTime() + ((i * 7919) % 200) * ((DAYS * 86_400_000 - 3_600_000) / 200);
      return [new Date(t).toISOString(), new Date(t + 3_600_000).toISOString()];
    });
    const distribution = (
      await c.query<{ action: string; n: string }>(
        `SELECT action, count(*)::text AS n FROM audit_events GROUP BY action ORDER BY count(*) DESC`,
      )
    ).rows.map((r) => ({ action: r.action, n: Number(r.n) }));
    const head =
      (
        await c.query<{ id: string }>(
          `SELECT nullif(t.id, 0)::text AS id FROM audit_chain_tail t ORDER BY t.id DESC LIMIT 1`,
        )
      ).rows[0]?.id ?? '';
    const rows = total;
    return {
      rows,
      seconds: round(singleS + batchedS),
      rowsPerS: Math.round((rows - single) / batchedS),
      batchRows: batch,
      singleStatementRows: single,
      singleStatementS: round(singleS),
      analyzeS: round(analyzeS),
      tableMb: round(Number(size.t) / 1048576, 0),
      indexMb: round(Number(size.i) / 1048576, 0),
      from: from.toISOString(),
      to: to.toISOString(),
      samplePatients: ['Patient/p0', ...patients],
      sampleWindows: windows,
      sampleClients: Array.from({ length: 8 }, (_, i) => `ehr-${i}`),
      exportWindow: [new Date(to.getTime() - 7 * 86_400_000).toISOString(), to.toISOString()],
      distribution,
      chainHeadId: head,
    };
  } finally {
    await c.end();
  }
}

export interface SqlBaselineRow {
  readonly query: string;
  readonly n: number;
  readonly latencyMs: LatencySummary;
  readonly plan: string;
}

/** The same searches straight in SQL (one connection, sequential): the floor under the API's numbers. */
export async function sqlBaseline(url: string, gen: AuditGeneration): Promise<SqlBaselineRow[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  const cols = `id, recorded_at, action, outcome, service, actor, client_id, tenant, patient_ref, request_id, hook_instance, detail`;
  const cases: Array<{ query: string; sql: string; params: (i: number) => unknown[] }> = [
    {
      query: 'by patient',
      sql: `SELECT ${cols} FROM audit_events WHERE patient_ref = $1 ORDER BY id DESC LIMIT 51`,
      params: (i) => [gen.samplePatients[i % gen.samplePatients.length]],
    },
    {
      query: 'by time range (1 h)',
      sql: `SELECT ${cols} FROM audit_events WHERE recorded_at >= $1 AND recorded_at < $2 ORDER BY id DESC LIMIT 51`,
      params: (i) => gen.sampleWindows[i % gen.sampleWindows.length]!,
    },
    {
      query: 'by client + action',
      sql: `SELECT ${cols} FROM audit_events WHERE client_id = $1 AND action = ANY($2) ORDER BY id DESC LIMIT 51`,
      params: (i) => [
        gen.sampleClients[i % gen.sampleClients.length],
        [['hook.answered', 'fhir.read', 'auth.refused'][i % 3]],
      ],
    },
  ];
  try {
    const out: SqlBaselineRow[] = [];
    for (const k of cases) {
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const s = performance.now();
        await c.query(k.sql, k.params(i));
        times.push(performance.now() - s);
      }
      const plan = (
        await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${k.sql}`, k.params(0))
      ).rows
        .map((r) => r['QUERY PLAN'])
        .slice(0, 8)
        .join('\n');
      out.push({ query: k.query, n: times.length, latencyMs: summarize(times), plan });
    }
    return out;
  } finally {
    await c.end();
  }
}
