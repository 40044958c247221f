import { Inject, Injectable } from '@nestjs/common';
import {
  HookInvocationRepository,
  InferenceRepository,
  type InferenceResultEntity,
  type NewHookInvocation,
  type ReuseCandidate,
  type ReuseLookup,
} from '@app/database';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';

export type Reusable =
  | { kind: 'result'; requestId: string; result: InferenceResultEntity }
  | { kind: 'pending'; requestId: string; deadlineAt: Date }
  | { kind: 'none' };

/** The prompt an inference is looked up by. */
export interface PromptKey {
  readonly model: string;
  readonly promptHash: string;
  readonly templateVersion: string;
}

/** Requests looked at, newest first. */
const CANDIDATES = 3;

/**
 * Finds an inference for the same prompt (same de-identified context, template and model) that is still
 * fresh: a stored good result is served without a model run; one still running is waited for.
 */
@Injectable()
export class InferenceReuse {
  constructor(
    private readonly inferences: InferenceRepository,
    private readonly invocations: HookInvocationRepository,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  /**
   * `invocation`: the call's row, stored first in the same round trip as the lookup (or alone when reuse is off).
   * `untilMs`: how long a cut database connection may be retried (the hook's answer deadline).
   */
  async find(key: PromptKey, now: Date, untilMs: number, invocation?: NewHookInvocation): Promise<Reusable> {
    if (this.config.RESULT_FRESH_MS === 0) {
      if (invocation) await this.invocations.received(invocation, untilMs);
      return { kind: 'none' };
    }
    const lookup: ReuseLookup = {
      ...key,
      since: new Date(now.getTime() - this.config.RESULT_FRESH_MS),
      take: CANDIDATES,
    };
    const candidates = invocation
      ? await this.invocations.receivedWithCandidates(invocation, lookup, untilMs)
      : await this.inferences.reuseCandidates(lookup, untilMs);
    return pickReusable(candidates, now);
  }
}

/** The first candidate (newest first) with a good result, or still running within its deadline. */
export function pickReusable(candidates: ReadonlyArray<ReuseCandidate>, now: Date): Reusable {
  for (const c of candidates) {
    if (c.status === 'completed') {
      if (c.result?.outcome === 'ok') return { kind: 'result', requestId: c.requestId, result: c.result };
    } else if (c.deadlineAt.getTime() > now.getTime()) {
      return { kind: 'pending', requestId: c.requestId, deadlineAt: c.deadlineAt };
    }
  }
  return { kind: 'none' };
}
