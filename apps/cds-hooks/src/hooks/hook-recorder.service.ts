import { Injectable } from '@nestjs/common';
import { AuditWriter, batchInsert, queuedAuditRow, type AuditRecord } from '@app/audit';
import { HookInvocationRepository, type AuditDetail, type NewHookInvocation } from '@app/database';
import type { CardAnswer } from './card-answer.service';
import type { HookCall, StartedInference } from './hook-call';
import type { PreparedHook } from './hook-preparation.service';

/**
 * How a call's `hook.invoked` event is made durable: through the audit writer while the call waits for its answer
 * (`committing`: it settles once committed), or, when the answer was at hand at once (a stored result, no new
 * inference), in the same statement as the answer (`withAnswer`).
 */
export type InvokedEvent = { readonly committing: Promise<void> } | { readonly withAnswer: StartedInference };

/**
 * Keeps a hook call on record: its row (stored with the dispatch's first round trip, see `invocationOf`), the
 * `hook.invoked` audit event once its inference is under way, and its answer (cards, suggestions, outcome) with
 * the `hook.answered` event.
 */
@Injectable()
export class HookRecorder {
  constructor(
    private readonly invocations: HookInvocationRepository,
    private readonly audit: AuditWriter,
  ) {}

  /** The call's `hook_invocations` row as received. */
  invocationOf(prepared: PreparedHook): NewHookInvocation {
    const { call, patientRef } = prepared;
    return {
      id: call.invocationId,
      hookInstance: call.hook.hookInstance,
      hook: call.hook.hook,
      serviceId: call.service.id,
      requestId: call.meta.requestId,
      clientId: call.meta.clientId ?? null,
      patientRef,
      receivedAt: call.receivedAt,
    };
  }

  /** Records `hook.invoked` through the audit writer: resolves once it committed. */
  invoked(prepared: PreparedHook, first: StartedInference): Promise<void> {
    return this.audit.record(this.invokedEvent(prepared, first));
  }

  /**
   * Stores the answer (cards, suggestions, outcome) and its `hook.answered` event in one statement, once `invoked`
   * committed (if it failed, nothing is stored and this rejects with its error: the call fails); or, with
   * `withAnswer`, `hook.invoked` and `hook.answered` together with the answer, in that order.
   */
  async answered(prepared: PreparedHook, answer: CardAnswer, invoked: InvokedEvent): Promise<void> {
    const { call } = prepared;
    const { requestId, cards, detail, suggestions } = answer;
    if ('committing' in invoked) await invoked.committing;
    const events = [
      ...('withAnswer' in invoked ? [this.invokedEvent(prepared, invoked.withAnswer)] : []),
      this.answeredEvent(prepared, answer),
    ].map((e) => queuedAuditRow(e));
    await this.invocations.answered(
      {
        invocationId: call.invocationId,
        inferenceRequestId: requestId,
        serviceId: call.service.id,
        cards: cards.map((c) => ({ uuid: c.uuid, indicator: c.indicator, content: { ...c } })),
        suggestions,
        detail: { ...detail },
      },
      (offset) => batchInsert(events, offset),
    );
  }

  private invokedEvent(prepared: PreparedHook, first: StartedInference): AuditRecord {
    const { prompt } = prepared;
    return this.hookEvent('hook.invoked', prepared, {
      hook: prepared.call.hook.hook,
      inferenceRequestId: first.requestId,
      reused: first.reused,
      promptHash: prompt.hash,
      templateVersion: prompt.templateVersion,
      promptTokens: prompt.manifest.promptTokens,
      factsLeftOut: Object.values(prompt.manifest.omitted).reduce((a, b) => a + b, 0),
    });
  }

  private answeredEvent(prepared: PreparedHook, answer: CardAnswer): AuditRecord {
    const { requestId, result, cards, detail, suggestions } = answer;
    return this.hookEvent('hook.answered', prepared, {
      inferenceRequestId: requestId,
      resultOutcome: result?.outcome ?? 'pending',
      output: detail.output ?? null,
      findingsDropped: detail.dropped?.map((d) => `${d.index}:${d.reason}`).join(',') ?? null,
      shadow: detail.shadow ?? false,
      cards: cards.length,
      cardIds: cards.map((c) => c.uuid).join(','),
      suggestions: suggestions.length,
    });
  }

  private hookEvent(
    action: 'hook.invoked' | 'hook.answered',
    { call, patientRef }: { call: HookCall; patientRef: string },
    detail: AuditDetail,
  ): AuditRecord {
    return {
      action,
      outcome: 'success',
      service: 'cds-hooks',
      clientId: call.meta.clientId ?? null,
      patientRef,
      requestId: call.meta.requestId,
      hookInstance: call.hook.hookInstance,
      detail: { serviceId: call.service.id, ...detail },
    };
  }
}
