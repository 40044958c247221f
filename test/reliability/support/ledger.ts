/**
 * Counts what one scenario did, from the answers the traffic got, the rows in Postgres and the calls the model
 * double saw: requests sent, cards returned, inference results and audit events stored, duplicates.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditChainVerifier } from '@app/audit';
import { AuditChainRepository, createDataSource } from '@app/database';
import { promptDigest, type ModelDouble, type RecordedRequest } from '@app/model-double';
import { queryRows } from '../../support/postgres';
import type { AppLogin } from './app-logins';
import type { HookCall } from './traffic';
import { ARTIFACTS, BUDGET_MS } from './stack';
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
  /** Results recorded expired (never run: deadline passed before a broker or a slot took the request). */
  resultsExpired: number;
  /**
   * Audit events that should exist and do not: an accepted call without hook.invoked or hook.answered, a call that
   * reached its inference request without hook.invoked, an inference request without its inference.completed.
   */
  auditLost: number;
  /** Audit events replayed from a spool at start-up (from the apps' logs). */
  auditReplayed: number;
  /** The whole audit chain verified (every row, from the anchor). */
  chainValid: boolean;
  modelCalls: number;
  modelCallsFaulted: number;
  modelCallsAbandoned: number;
  modelRuns: number;
  promptsNeedingRun: number;
  promptsNeverRun: number;
  notes: string[];
  /** The logins the app processes were connected as mid-traffic (issue 14), where a scenario looked. */
  appLogins?: AppLogin[];
}

/** Where the double's recording stood when the scenario started. */
export interface DoubleMark {
  readonly index: number;
}

export function markDouble(double: ModelDouble): DoubleMark {
  return { index: double.requests().length };
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
  /**
   * A 503 is the documented answer here (the audit queue at its bound): such a call may have started its
   * inference before its hook.invoked event was refused, so it is not counted as a lost hook.invoked.
   */
  readonly refusedIsAnswer?: boolean;
  readonly notes?: string[];
}

/** Events replayed from spools so far, summed over every app log (logs are appended to across runs). */
function auditReplayedSoFar(): number {
  const dir = path.join(ARTIFACTS, 'logs');
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const f of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/replaying (\d+) audit events/g)) n += Number(m[1]);
  }
  return n;
}

/** Scenarios run one after another: each counts the replays since the previous one was tallied. */
let replayedAtLastTally = auditReplayedSoFar();

function replayedSince(): number {
  const now = auditReplayedSoFar();
  const n = now - replayedAtLastTally;
  replayedAtLastTally = now;
  return n;
}

async function chainValid(dbUrl: string): Promise<boolean> {
  const ds = createDataSource({ url: dbUrl, poolSize: 1 });
  await ds.initialize();
  try {
    return (await new AuditChainVerifier(new AuditChainRepository(ds)).verify()).valid;
  } finally {
    await ds.destroy();
  }
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function completions(double: ModelDouble, from = 0): RecordedRequest[] {
  return double
    .requests()
    .slice(from)
    .filter((r) => r.path === '/v1/completions');
}

function completionPrompts(double: ModelDouble, from = 0): string[] {
  return completions(double, from).map((r) => String((r.body as { prompt?: unknown }).prompt ?? ''));
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
  const created = await queryRows<{ request_id: string; prompt_hash: string; hook_invocation_id: string }>(
    o.dbUrl,
    `SELECT request_id, prompt_hash, hook_invocation_id FROM inference_requests
      WHERE hook_invocation_id = ANY($1::uuid[])`,
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
  const has = (action: string, requestId: string | null | undefined) =>
    audit.some((a) => a.action === action && a.request_id === requestId);
  const refusedIds = new Set(o.refusedIsAnswer ? o.calls.filter((c) => c.status === 503).map((c) => c.requestId) : []);
  const invocationRequest = new Map(
    invocations.filter((i) => !refusedIds.has(i.request_id)).map((i) => [i.id, i.request_id]),
  );
  const reachedInference = new Set(created.map((c) => c.hook_invocation_id));
  const auditLost =
    accepted.filter((c) => !has('hook.invoked', c.requestId) || !has('hook.answered', c.requestId)).length +
    [...reachedInference].filter((id) => invocationRequest.has(id) && !has('hook.invoked', invocationRequest.get(id)))
      .length +
    created.filter((c) => !has('inference.completed', c.request_id)).length;

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
  // Faulted generations only: a model listing (the proxy's discovery) answered 503 inside an outage is faulted too,
  // and counting it made a run go missing whenever a discovery poll fell in the outage's window.
  const modelCallsFaulted = completions(o.double, o.mark.index).filter((r) => r.faulted).length;
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
    resultsExpired: results.filter((r) => r.outcome === 'expired').length,
    auditLost,
    auditReplayed: replayedSince(),
    chainValid: await chainValid(o.dbUrl),
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
      ...accepted
        .filter((c) => c.latencyMs > BUDGET_MS + ANSWER_SLACK_MS)
        .map((c) => `late answer: marker ${c.marker} after ${c.latencyMs} ms`),
    ],
  };
}
