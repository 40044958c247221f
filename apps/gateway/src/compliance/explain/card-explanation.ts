import type { ContextLeftOut } from '../provenance/context-left-out';
import type { AuditEventView } from '../search/audit-event.view';
import type { AuditRowChainStatus } from './audit-row-check';

/** A finding of the model's raw output with each handle it cited resolved to the fact line the model was shown. */
export interface ExplainedFinding {
  readonly index: number;
  readonly summary: string;
  readonly indicator: string;
  /** This finding became the card being explained. */
  readonly isThisCard: boolean;
  /** Why it never became a card, when the grounding check dropped it. */
  readonly droppedBecause: string | null;
  readonly citations: ReadonlyArray<{ handle: string; fact: string | null; reference: string | null }>;
}

/** Everything on record about one card, in one answer, as the console's explanation page shows it. */
export interface CardExplanation {
  readonly card: {
    readonly uuid: string;
    readonly serviceId: string;
    readonly createdAt: string;
    readonly indicator: string | null;
    /** The card JSON as the EHR received it (null for cards stored before it was kept). */
    readonly asSent: unknown;
  };
  readonly call: {
    readonly hook: string;
    readonly hookInstance: string;
    readonly clientId: string | null;
    readonly requestId: string;
    readonly status: string;
    readonly receivedAt: string;
    readonly answeredAt: string | null;
    /** Shown only to roles allowed patient identity; otherwise null with `patientHidden`. */
    readonly patientRef: string | null;
    readonly patientHidden: boolean;
  };
  readonly prompt: {
    readonly model: string | null;
    readonly templateVersion: string | null;
    readonly promptHash: string | null;
    readonly promptTokens: number | null;
    readonly budgetTokens: number | null;
  };
  readonly findings: ReadonlyArray<ExplainedFinding>;
  readonly leftOut: ContextLeftOut | null;
  readonly run: {
    readonly backend: string | null;
    readonly outcome: string | null;
    readonly servedFrom: string | null;
    readonly attempts: number | null;
    readonly latencyMs: number | null;
    readonly tokensIn: number | null;
    readonly tokensOut: number | null;
    readonly errorCode: string | null;
  };
  readonly rawOutput: string | null;
  /** What happened between the model's answer and the cards (output validity, repair, drops, shadow mode). */
  readonly answer: unknown;
  readonly feedback: ReadonlyArray<{
    readonly outcome: string;
    readonly outcomeAt: string;
    readonly overrideReason: unknown;
    readonly clientId: string | null;
  }>;
  readonly auditEvents: ReadonlyArray<AuditEventView & { readonly chain: AuditRowChainStatus | 'unknown' }>;
}
