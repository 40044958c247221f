import { Inject, Injectable } from '@nestjs/common';
import { InferenceRepository, type InferenceResultEntity } from '@app/database';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';

export type Reusable =
  | { kind: 'result'; requestId: string; result: InferenceResultEntity }
  | { kind: 'pending'; requestId: string; deadlineAt: Date }
  | { kind: 'none' };

/**
 * Finds an inference for the same prompt (same de-identified context, template and model) that is still
 * fresh: a stored good result is served without a model run; one still running is waited for.
 */
@Injectable()
export class InferenceReuse {
  constructor(
    private readonly inferences: InferenceRepository,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  /** `untilMs`: how long a cut database connection may be retried (the hook's answer deadline). */
  async find(
    model: string,
    promptHash: string,
    templateVersion: string,
    now: Date,
    untilMs: number,
  ): Promise<Reusable> {
    if (this.config.RESULT_FRESH_MS === 0) return { kind: 'none' };
    const since = new Date(now.getTime() - this.config.RESULT_FRESH_MS);
    const candidates = await this.inferences.recentForPrompt(model, promptHash, templateVersion, since, 3, untilMs);
    for (const c of candidates) {
      if (c.status === 'completed') {
        const result = await this.inferences.resultOf(c.requestId, untilMs);
        if (result?.outcome === 'ok') return { kind: 'result', requestId: c.requestId, result };
      } else if (c.deadlineAt.getTime() > now.getTime()) {
        return { kind: 'pending', requestId: c.requestId, deadlineAt: c.deadlineAt };
      }
    }
    return { kind: 'none' };
  }
}
