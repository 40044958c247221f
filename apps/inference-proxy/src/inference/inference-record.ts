import type { InferenceOutcome } from '@app/contracts';
import type { InferenceRequestStatus, StoredResult } from '@app/database';

export type ServedFrom = 'backend' | 'cache' | 'coalesced';

/** One inference as stored in `inference_results` (and summarised in the audit trail). */
export interface InferenceRecord {
  readonly requestId: string;
  readonly hookInstance: string;
  readonly model: string;
  readonly templateVersion: string;
  readonly promptHash: string;
  readonly outcome: InferenceOutcome;
  readonly status: InferenceRequestStatus;
  readonly backend: string | null;
  readonly servedFrom: ServedFrom | null;
  readonly attempts: number;
  readonly outputText: string | null;
  readonly errorCode: string | null;
  readonly tokensIn: number | null;
  readonly tokensOut: number | null;
  readonly latencyMs: number;
  readonly completedAt: Date;
}

/** The row `inference_results` keeps for a record, and the status its request moves to. */
export function toStoredResult(r: InferenceRecord): StoredResult {
  return {
    requestId: r.requestId,
    outcome: r.outcome,
    backend: r.backend,
    outputText: r.outputText,
    errorCode: r.errorCode,
    tokensIn: r.tokensIn,
    tokensOut: r.tokensOut,
    latencyMs: r.latencyMs,
    completedAt: r.completedAt,
    hookInstance: r.hookInstance,
    model: r.model,
    templateVersion: r.templateVersion,
    promptHash: r.promptHash,
    attempts: r.attempts,
    servedFrom: r.servedFrom,
    status: r.status,
  };
}
