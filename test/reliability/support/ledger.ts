/**
 * Counts what one scenario did, from the answers the traffic got, the rows in Postgres and the calls the model
 * double saw: requests sent, cards returned, inference results and audit events stored, duplicates.
 */
import { createHash } from 'node:crypto';
import { promptDigest, type ModelDouble } from '@app/model-double';
import { queryRows } from '../../support/postgres';
import type { HookCall } from './traffic';
import { BUDGET_MS } from './stack';
import { until } from './traffic';

/** Time an answer may take beyond the service budget: the answer's own DB writes and HTTP on a loaded 2-core box. */
export const ANSWER_SLACK_MS = 1_500;

export interface ScenarioCounts {
  scenario: string;
  durationMs: number;
  requestsSent: number;
  accepted: number;
  failed: number;
  answeredWithCards: number;
  answeredEmpty: number;
  answeredInBudget: number;
  maxLatencyMs: number;
  completedLater: number;
  cardsReturned: number;
  cardsMisrouted: number;
  inferenceRequests: number;
  resultsStored: number;
  resultsNotOk: number;
  auditHookInvoked: number;
  auditHookAnswered: number;
  auditInferenceCompleted: number;
  duplicateResults: number;
  duplicateAuditEvents: number;
  modelCalls: number;
  modelCallsFaulted: number;
  modelCallsAbandoned: number;
  modelRuns: number;
  promptsNeedingRun: number;
  promptsNeverRun: number;
  notes: string[];
}

/** Where the double's counters stood when the scenario started. */
export interface DoubleMark {
  readonly index: number;
  readonly faulted: number;
}

export function markDouble(double: ModelDouble): DoubleMark {
  return { index: double.requests().length, faulted: double.stats().faulted };
}

interface Options {
  readonly scenario: string;
  readonly dbUrl: string;
  readonly double: ModelDouble;
  readonly mark: DoubleMark;
  readonly calls: ReadonlyArray<HookCall>;
  readonly startedAt: number;
  /** Model calls cut off by a crash (their prompt is run again after redelivery). */
  readonly abandoned?: number;
  readonly completionTimeoutMs?: number;
  readonly notes?: string[];
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function completionPrompts(double: ModelDouble, from = 0): string[] {
  return double
    .requests()
    .slice(from)
    .filter((r) => r.path === '/v1/completions')
    .map((r) => String((r.body as { prompt?: unknown }).prompt ?? ''));
}

/** Waits until every inference the accepted calls depend on has a stored result, then counts. */
export async function tally(o: Options): Promise<ScenarioCounts> {
  const durationMs = Date.now() - o.startedAt;
  const accepted = o.calls.filter((c) => c.status === 200);
  const requestIds = o.calls.map((c) => c.requestId);
  const invocations = await queryRows<{ id: string; request_id: string; inference_request_id: string | null }>(
    o.dbUrl,
    `SELECT id, request_id, inference_request_id FROM hook_invocations WHERE request_id = ANY($1::text[])`,
    [requestIds],
  );
  const created = await queryRows<{ request_id: string; prompt_hash: string }>(
    o.dbUrl,
    `SELECT request_id, prompt_hash FROM inference_requests WHERE hook_invocation_id = ANY($1::uuid[])`,
    [invocations.map((i) => i.id)],
  );
  const inferenceIds = [
    ...new Set([
      ...created.map((c) => c.request_id),
      ...invocations.flatMap((i) => (i.inference_request_id ? [i.inference_request_id] : [])),
    ]),
  ];
  const results = await until(
    `${o.scenario}: results for ${inferenceIds.length} inferences`,
    async () => {
      const rows = await queryRows<{ request_id: string; outcome: string; n: string }>(
        o.dbUrl,
        `SELECT request_id, outcome, count(*) OVER (PARTITION BY request_id)::text AS n
           FROM inference_results WHERE request_id = ANY($1::uuid[])`,
        [inferenceIds],
      );
      return rows.length >= inferenceIds.length ? rows : undefined;
    },
    o.completionTimeoutMs ?? 60_000,
  );
  const okIds = new Set(results.filter((r) => r.outcome === 'ok').map((r) => r.request_id));
  const audit = await queryRows<{ action: string; request_id: string; n: string }>(
    o.dbUrl,
    `SELECT action, request_id, count(*)::text AS n FROM audit_events
      WHERE request_id = ANY($1::text[]) GROUP BY action, request_id`,
    [[...requestIds, ...inferenceIds]],
  );
  const auditCount = (action: string) =>
    audit.filter((a) => a.action === action).reduce((sum, a) => sum + Number(a.n), 0);

  const invocationOf = new Map(invocations.map((i) => [i.request_id, i]));
  const allPrompts = completionPrompts(o.double);
  const byDigest = new Map<string, string[]>();
  for (const p of allPrompts) byDigest.set(promptDigest(p), [...(byDigest.get(promptDigest(p)) ?? []), p]);
  const belongs = (summary: string, marker: number): boolean => {
    const digest = /prompt ([0-9a-f]{8})/.exec(summary)?.[1];
    const prompts = digest ? (byDigest.get(digest) ?? []) : [];
    return prompts.some((p) => new RegExp(`(^|\\D)${marker} mg/dL`).test(p));
  };

  const windowPrompts = completionPrompts(o.double, o.mark.index);
  const modelCallsFaulted = o.double.stats().faulted - o.mark.faulted;
  const modelCallsAbandoned = o.abandoned ?? 0;
  const ranHashes = new Set(allPrompts.map(sha256));
  const neededHashes = new Set(created.map((c) => c.prompt_hash));

  return {
    scenario: o.scenario,
    durationMs,
    requestsSent: o.calls.length,
    accepted: accepted.length,
    failed: o.calls.length - accepted.length,
    answeredWithCards: accepted.filter((c) => c.cardSummaries.length > 0).length,
    answeredEmpty: accepted.filter((c) => c.cardSummaries.length === 0).length,
    answeredInBudget: accepted.filter((c) => c.latencyMs <= BUDGET_MS + ANSWER_SLACK_MS).length,
    maxLatencyMs: Math.max(0, ...o.calls.map((c) => c.latencyMs)),
    completedLater: accepted.filter((c) => {
      const inv = invocationOf.get(c.requestId);
      return c.cardSummaries.length === 0 && inv?.inference_request_id && okIds.has(inv.inference_request_id);
    }).length,
    cardsReturned: accepted.reduce((n, c) => n + c.cardSummaries.length, 0),
    cardsMisrouted: accepted.reduce((n, c) => n + c.cardSummaries.filter((s) => !belongs(s, c.marker)).length, 0),
    inferenceRequests: created.length,
    resultsStored: results.length,
    resultsNotOk: results.filter((r) => r.outcome !== 'ok').length,
    auditHookInvoked: auditCount('hook.invoked'),
    auditHookAnswered: auditCount('hook.answered'),
    auditInferenceCompleted: auditCount('inference.completed'),
    duplicateResults: results.filter((r) => Number(r.n) > 1).length,
    duplicateAuditEvents: audit.filter((a) => Number(a.n) > 1).length,
    modelCalls: windowPrompts.length,
    modelCallsFaulted,
    modelCallsAbandoned,
    modelRuns: windowPrompts.length - modelCallsFaulted - modelCallsAbandoned,
    promptsNeedingRun: neededHashes.size,
    promptsNeverRun: [...neededHashes].filter((h) => !ranHashes.has(h)).length,
    notes: [
      ...(o.notes ?? []),
      // What a refused or failed call saw, so a red run says why (no patient data: synthetic markers only).
      ...o.calls
        .filter((c) => !accepted.includes(c))
        .map((c) => `failed call: status ${c.status}${c.error ? `, ${c.error}` : ''}, after ${c.latencyMs} ms`),
    ],
  };
}
