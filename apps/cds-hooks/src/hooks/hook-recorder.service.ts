import { Injectable } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { HookInvocationRepository, type AuditDetail, type NewHookInvocation } from '@app/database';
import type { CardAnswer } from './card-answer.service';
import type { HookCall, StartedInference } from './hook-call';
import type { PreparedHook } from './hook-preparation.service';

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

  invoked(prepared: PreparedHook, first: StartedInference): Promise<void> {
    const { prompt } = prepared;
    return this.auditHook('hook.invoked', prepared, {
      hook: prepared.call.hook.hook,
      inferenceRequestId: first.requestId,
      reused: first.reused,
      promptHash: prompt.hash,
      templateVersion: prompt.templateVersion,
      promptTokens: prompt.manifest.promptTokens,
      factsLeftOut: Object.values(prompt.manifest.omitted).reduce((a, b) => a + b, 0),
    });
  }

  /**
   * Stores the answer and records `hook.answered`, once `invoked` (the call's `hook.invoked` event, still being
   * made durable) committed; if it failed, nothing is stored and this rejects with its error (the call fails), so a
   * call is never on record as answered when its EHR was not.
   */
  async answered(
    prepared: PreparedHook,
    answer: CardAnswer,
    invoked: Promise<void> = Promise.resolve(),
  ): Promise<void> {
    const { call } = prepared;
    const { requestId, result, cards, detail, suggestions } = answer;
    await invoked;
    await this.invocations.answered({
      invocationId: call.invocationId,
      inferenceRequestId: requestId,
      serviceId: call.service.id,
      cards: cards.map((c) => ({ uuid: c.uuid, indicator: c.indicator, content: { ...c } })),
      suggestions,
      detail: { ...detail },
    });
    await this.auditHook('hook.answered', prepared, {
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

  private auditHook(
    action: 'hook.invoked' | 'hook.answered',
    { call, patientRef }: { call: HookCall; patientRef: string },
    detail: AuditDetail,
  ): Promise<void> {
    return this.audit.record({
      action,
      outcome: 'success',
      service: 'cds-hooks',
      clientId: call.meta.clientId ?? null,
      patientRef,
      requestId: call.meta.requestId,
      hookInstance: call.hook.hookInstance,
      detail: { serviceId: call.service.id, ...detail },
    });
  }
}
