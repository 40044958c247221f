/**
 * The dashboard's aggregates, one statement per table scan. `$1` from, `$2` to, `$3` service or null. Each is served
 * by an index whose INCLUDE columns hold what it aggregates (migration 1764490000000), so a period is read from the
 * index alone; latency percentiles are `percentile_cont` in SQL.
 */
export const PERIOD = `received_at >= $1 AND received_at < $2 AND ($3::text IS NULL OR service_id = $3)`;

export const HOOK_TOTALS_SQL = `
SELECT count(*)::int AS calls,
       count(*) FILTER (WHERE status = 'answered')::int AS with_cards,
       count(*) FILTER (WHERE status = 'answered_empty')::int AS without_cards,
       count(*) FILTER (WHERE status = 'failed')::int AS failed,
       count(*) FILTER (WHERE status = 'refused')::int AS refused,
       count(*) FILTER (WHERE status = 'received')::int AS unanswered,
       count(*) FILTER (WHERE answer_outcome = 'valid')::int AS valid,
       count(*) FILTER (WHERE answer_outcome = 'repaired')::int AS repaired,
       count(*) FILTER (WHERE answer_outcome = 'invalid')::int AS invalid,
       count(*) FILTER (WHERE answer_outcome = 'expired')::int AS expired,
       count(*) FILTER (WHERE answer_outcome = 'backend_error')::int AS backend_error,
       count(*) FILTER (WHERE answer_outcome = 'pending')::int AS pending,
       coalesce(sum(dropped_uncited), 0)::int AS dropped_uncited,
       coalesce(sum(dropped_unknown_ref), 0)::int AS dropped_unknown_ref,
       coalesce(sum(critical_lowered), 0)::int AS critical_lowered,
       count(inference_request_id)::int AS with_inference,
       count(DISTINCT inference_request_id)::int AS distinct_inferences,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (
         ORDER BY extract(epoch FROM answered_at - received_at) * 1000) AS latency
  FROM hook_invocations WHERE ${PERIOD}`;

export const VOLUME_SQL = `
SELECT date_trunc($4, received_at, 'UTC') AS bucket, count(*)::int AS calls,
       count(*) FILTER (WHERE status = 'answered')::int AS with_cards
  FROM hook_invocations WHERE ${PERIOD} GROUP BY 1 ORDER BY 1`;

export const CLIENTS_SQL = `
SELECT coalesce(client_id, '(unknown)') AS client, count(*)::int AS calls,
       count(*) FILTER (WHERE status = 'answered')::int AS with_cards,
       count(*) FILTER (WHERE status IN ('failed', 'refused'))::int AS failed
  FROM hook_invocations WHERE ${PERIOD} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100`;

export const SHADOW_SQL = `
SELECT service_id AS service, count(*)::int AS calls, coalesce(sum(shadow_cards), 0)::int AS would_have_shown
  FROM hook_invocations WHERE ${PERIOD} AND shadow_cards IS NOT NULL GROUP BY 1 ORDER BY 1`;

/** The latest withheld cards of shadow-mode services: indicator and summary only (no patient). */
export const SHADOW_SAMPLES_SQL = `
SELECT service_id AS service, received_at, answer_detail->'shadowPreview' AS preview
  FROM hook_invocations WHERE ${PERIOD} AND shadow_cards > 0 ORDER BY received_at DESC LIMIT 10`;

export const CARDS_SQL = `
SELECT coalesce(indicator, 'unrecorded') AS indicator, count(*)::int AS cards
  FROM cds_cards WHERE created_at >= $1 AND created_at < $2 AND ($3::text IS NULL OR service_id = $3)
 GROUP BY 1 ORDER BY 1`;

export const FEEDBACK_SQL = `
SELECT outcome, count(*)::int AS n
  FROM feedback WHERE outcome_at >= $1 AND outcome_at < $2 AND ($3::text IS NULL OR service_id = $3)
 GROUP BY 1 ORDER BY 1`;

export const OVERRIDE_REASONS_SQL = `
SELECT coalesce(override_reason->'reason'->>'display', override_reason->'reason'->>'code', '(no reason given)') AS reason,
       count(*)::int AS n
  FROM feedback
 WHERE outcome_at >= $1 AND outcome_at < $2 AND ($3::text IS NULL OR service_id = $3) AND outcome = 'overridden'
 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50`;

/** Model runs in the period: by service only through the hook call that started them. */
export const MODEL_RUNS_SQL = `
SELECT count(*)::int AS runs,
       count(*) FILTER (WHERE x.outcome IN ('ok', 'success'))::int AS ok,
       count(*) FILTER (WHERE x.served_from = 'backend')::int AS from_backend,
       count(*) FILTER (WHERE x.served_from = 'cache')::int AS from_cache,
       count(*) FILTER (WHERE x.served_from = 'coalesced')::int AS coalesced,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY x.latency_ms) AS latency
  FROM inference_results x
 WHERE x.completed_at >= $1 AND x.completed_at < $2
   AND ($3::text IS NULL OR EXISTS (
         SELECT 1 FROM inference_requests r JOIN hook_invocations h ON h.id = r.hook_invocation_id
          WHERE r.request_id = x.request_id AND h.service_id = $3))`;
