import { Injectable } from '@nestjs/common';
import type { AuditAdmission } from '@app/audit';
import { inSpan } from '@app/observability';
import type { CdsResponse } from '../cards/card';
import { CardAnswerService, type CardAnswer } from './card-answer.service';
import type { HookCallMeta } from './hook-call';
import { HookPreparation } from './hook-preparation.service';
import { HookPrewarmer } from './hook-prewarmer.service';
import { HookRecorder } from './hook-recorder.service';
import type { HookRequest } from './hook-request.schema';
import { HOOK_TRACER, hookStep } from './hook-span';
import { InferenceStarter } from './inference-starter.service';

export type { HookCallMeta } from './hook-call';

/**
 * Turns one hook call into cards, top to bottom: prepare the prompt (admit, budget, context, summary), record the
 * call and start (or reuse) its inference, warm the services this one prewarms, audit the call, wait for the
 * answer within the service's budget, store and audit it. A late result is stored all the same and serves the
 * next call.
 */
@Injectable()
export class HookHandler {
  constructor(
    private readonly preparation: HookPreparation,
    private readonly recorder: HookRecorder,
    private readonly starter: InferenceStarter,
    private readonly prewarmer: HookPrewarmer,
    private readonly answers: CardAnswerService,
  ) {}

  handle(serviceId: string, hook: HookRequest, meta: HookCallMeta): Promise<CdsResponse> {
    const attributes = {
      'cds_hooks.service_id': serviceId,
      'cds_hooks.hook': hook.hook,
      'meditron.request_id': meta.requestId,
    };
    return inSpan(HOOK_TRACER, `hook ${serviceId}`, { attributes }, () => this.run(serviceId, hook, meta));
  }

  private async run(serviceId: string, hook: HookRequest, meta: HookCallMeta): Promise<CdsResponse> {
    const prepared = await this.preparation.prepare(serviceId, hook, meta);
    const { call, prompt, offered } = prepared;
    // The call's row is stored before anything is sent, so nothing is in flight unrecorded.
    const first = await hookStep('hook.dispatch', () =>
      this.starter.start(call, prompt, { invocation: this.recorder.invocationOf(prepared) }),
    );
    // `hook.invoked` is admitted now (on the local spool at once) and written with `hook.answered` when the answer
    // comes within its linger (one INSERT), else alone when the linger ends. Nothing is answered until it has
    // committed; if it is refused or fails, the call fails as it always did.
    // A stored result answers at once: then `hook.invoked` is recorded with `hook.answered` (one audit write beside
    // the cards row, not one before it), unless a repair is about to start an inference of its own first.
    let invoked = first.reused === 'result' ? undefined : pending(this.recorder.invoked(prepared, first));
    // Committed now, not at the end of its linger: before a repair starts an inference, and before a call fails.
    const invokedNow = async (): Promise<void> => {
      invoked ??= pending(this.recorder.invoked(prepared, first));
      await this.recorder.invokedNow(await invoked);
    };
    await this.prewarmer.prewarm(prepared);
    // A failed `hook.invoked` fails the call at once (as when it was awaited first), not after the model wait.
    // A call that fails on its way to an answer still leaves `hook.invoked` on the trail (a stored result's too).
    const answering = hookStep('hook.wait', () => this.answers.answer(call, prompt, first, offered, invokedNow)).catch(
      async (err: unknown) => {
        await invokedNow().catch(() => undefined);
        throw err;
      },
    );
    const answer = await (invoked ? Promise.race([answering, failureOf(invoked)]) : answering);
    const recorded = invoked ? await invoked : { withAnswer: first };
    // The deadline may have answered the EHR with no cards already: then the record says what the EHR was shown.
    if (meta.delivery && !meta.delivery.claim('handler')) {
      await this.recorder.answered(prepared, withheldAtDeadline(answer), recorded);
      return { cards: [] };
    }
    await this.recorder.answered(prepared, answer, recorded);
    return { cards: answer.cards };
  }
}

/**
 * `work`, awaited later: a rejection meanwhile is not reported as unhandled (the caller still gets it when it
 * awaits the returned promise).
 */
function pending<T>(work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  return work;
}

/** Never resolves; rejects as soon as `hook.invoked` is refused or fails to commit (raced with the answer). */
function failureOf(invoked: Promise<AuditAdmission>): Promise<never> {
  return invoked.then((a) => a.durable).then(() => new Promise<never>(() => undefined));
}

/** An answer that came after the deadline answered `{"cards": []}`: on record as shown nothing, the cards counted. */
function withheldAtDeadline(answer: CardAnswer): CardAnswer {
  return {
    ...answer,
    cards: [],
    suggestions: [],
    detail: { ...answer.detail, withheldAtDeadline: answer.cards.length },
  };
}
