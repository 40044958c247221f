/**
 * Named SQL of the governance dashboard and its rollup (GovernanceDashboardRepository, GovernanceRollupRepository).
 *
 * The dashboard's figures as facts: (hour, service, metric, label, n), from the raw tables for any time range. The
 * rollup writes them for closed hours into `governance_hourly`; the dashboard reads the rollup for the whole hours of
 * its period and computes the rest (the open hour, partial hours at the edges) live with the same statements.
 * `from` and `to` are parameter numbers. Latencies are counted in 5%-wide logarithmic buckets: bucket b holds
 * [1.05^b, 1.05^(b+1)) ms.
 */
export function factsSql(from: number, to: number): string {
  const bucket = (ms: string) => `floor(ln(greatest(${ms}, 1)) / ln(1.05))::int::text`;
  const hookMs = `extract(epoch FROM h.answered_at - h.received_at) * 1000`;
  return `
SELECT date_trunc('hour', h.received_at, 'UTC') AS hour, h.service_id, v.metric, v.label, sum(v.n)::bigint AS n
  FROM hook_invocations h
 CROSS JOIN LATERAL (VALUES
   ('calls', '', 1),
   ('status', h.status, 1),
   ('outcome', h.answer_outcome, 1),
   ('findings', 'dropped_uncited', h.dropped_uncited),
   ('findings', 'dropped_unknown_ref', h.dropped_unknown_ref),
   ('findings', 'critical_lowered', h.critical_lowered),
   ('client', coalesce(h.client_id, '(unknown)'), 1),
   ('client_cards', coalesce(h.client_id, '(unknown)'), (h.status = 'answered')::int),
   ('client_failed', coalesce(h.client_id, '(unknown)'), (h.status IN ('failed', 'refused'))::int),
   ('shadow_calls', '', (h.shadow_cards IS NOT NULL)::int),
   ('shadow_cards', '', coalesce(h.shadow_cards, 0)),
   ('with_inference', '', (h.inference_request_id IS NOT NULL)::int),
   ('hook_ms', CASE WHEN h.answered_at IS NOT NULL THEN ${bucket(hookMs)} END, 1)
 ) AS v(metric, label, n)
 WHERE h.received_at >= $${from} AND h.received_at < $${to} AND v.label IS NOT NULL AND v.n <> 0
 GROUP BY 1, 2, 3, 4
UNION ALL
SELECT date_trunc('hour', received_at, 'UTC'), service_id, 'distinct_inferences', '', count(DISTINCT inference_request_id)
  FROM hook_invocations WHERE received_at >= $${from} AND received_at < $${to} GROUP BY 1, 2
UNION ALL
SELECT date_trunc('hour', created_at, 'UTC'), service_id, 'card', coalesce(indicator, 'unrecorded'), count(*)
  FROM cds_cards WHERE created_at >= $${from} AND created_at < $${to} GROUP BY 1, 2, 4
UNION ALL
SELECT date_trunc('hour', f.received_at, 'UTC'), f.service_id, v.metric, v.label, count(*)
  FROM feedback f
 CROSS JOIN LATERAL (VALUES
   ('feedback', f.outcome),
   ('override', CASE WHEN f.outcome = 'overridden' THEN coalesce(f.override_reason->'reason'->>'display',
      f.override_reason->'reason'->>'code', '(no reason given)') END)
 ) AS v(metric, label)
 WHERE f.received_at >= $${from} AND f.received_at < $${to} AND v.label IS NOT NULL
 GROUP BY 1, 2, 3, 4
UNION ALL
SELECT date_trunc('hour', x.completed_at, 'UTC'), coalesce(h.service_id, '(none)'), v.metric, v.label, count(*)
  FROM inference_results x
  LEFT JOIN inference_requests r ON r.request_id = x.request_id
  LEFT JOIN hook_invocations h ON h.id = r.hook_invocation_id
 CROSS JOIN LATERAL (VALUES
   ('runs', ''),
   ('run_outcome', x.outcome),
   ('served', coalesce(x.served_from, 'backend')),
   ('run_ms', ${bucket('x.latency_ms')})
 ) AS v(metric, label)
 WHERE x.completed_at >= $${from} AND x.completed_at < $${to}
 GROUP BY 1, 2, 3, 4`;
}

/** One stretch of a period and where its facts come from. */
export interface FactSegment {
  readonly source: 'daily' | 'hourly' | 'live';
  readonly from: Date;
  readonly to: Date;
}

/**
 * One statement for all the facts of a period, `$1` the service or null, then two parameters per segment: every panel
 * is summed from the one materialised set of facts (by metric and label; calls per `$2` bucket; shadow per service).
 */
export function dashboardSql(segments: ReadonlyArray<FactSegment>): { sql: string; params: Date[] } {
  const params: Date[] = [];
  const parts = segments.map((s) => {
    params.push(s.from, s.to);
    const a = params.length + 1;
    const b = params.length + 2;
    if (s.source === 'daily') {
      return `SELECT day AS hour, service_id, metric, label, n FROM governance_daily WHERE day >= $${a} AND day < $${b}`;
    }
    if (s.source === 'hourly') {
      return `SELECT hour, service_id, metric, label, n FROM governance_hourly WHERE hour >= $${a} AND hour < $${b}`;
    }
    return `SELECT * FROM (${factsSql(a, b)}) AS live`;
  });
  const sql = `
WITH f AS MATERIALIZED (
  SELECT * FROM (${parts.join('\n  UNION ALL ')}) AS p WHERE ($1::text IS NULL OR service_id = $1)
)
SELECT 'fact' AS kind, metric, label, NULL::timestamptz AS bucket, sum(n)::bigint AS n FROM f GROUP BY 2, 3
UNION ALL
SELECT 'volume', metric, label, date_trunc($2, hour, 'UTC'), sum(n)::bigint FROM f
 WHERE metric = 'calls' OR (metric = 'status' AND label = 'answered') GROUP BY 2, 3, 4
UNION ALL
SELECT 'shadow', metric, service_id, NULL, sum(n)::bigint FROM f
 WHERE metric IN ('shadow_calls', 'shadow_cards') GROUP BY 2, 3`;
  return { sql, params };
}

/**
 * The latest withheld cards of shadow-mode services: indicator and summary only (no patient). Two statements so each
 * uses its own partial index (all services by time; one service by service and time). `$3` the service, when given.
 */
export function shadowSamplesSql(oneService: boolean): string {
  return `
SELECT service_id AS service, received_at, answer_detail->'shadowPreview' AS preview
  FROM hook_invocations
 WHERE received_at >= $1 AND received_at < $2 AND shadow_cards > 0${oneService ? ' AND service_id = $3' : ''}
 ORDER BY received_at DESC LIMIT 10`;
}
