import { Injectable, Logger } from '@nestjs/common';
import { AuditWriter, type AuditAdmission, type AuditRecord } from '@app/audit';
import { HookInvocationRepository, type AuditDetail, type NewHookInvocation } from '@app/database';
import type { CardAnswer } from './card-answer.service';
import type { HookCall, StartedInference } from './hook-call';
import type { PreparedHook } from './hook-preparation.service';

/** How `answered` finds the call's `hook.invoked`: admitted at dispatch, or to be recorded with the answer. */
export type InvokedRecord = AuditAdmission | { readonly withAnswer: StartedInference };

/**
 * Keeps a hook call on record: its row (stored with the dispatch's first round trip, see `invocationOf`), the
 * `hook.invoked` audit event admitted once its inference is under way (written in one INSERT with `hook.answered`
 * when the answer is quick, alone after a short linger when it is not; recorded with the answer when a stored result
 * answers at once), and its answer (cards, suggestions, outcome) with the `hook.answered` event.
 */
@Injectable()
export class HookRecorder {
  private readonly logger = new Logger(HookRecorder.name);

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

  /**
   * Admits `hook.invoked` when the call's inference is dispatched: on the local spool at once (replayed after a
   * crash), its INSERT lingering (AUDIT_LINGER_MS) so that a quick answer's `hook.answered` shares it; a slow answer
   * finds it written alone when the linger ends. Rejects at once when the audit queue refuses it.
   */
  invoked(prepared: PreparedHook, first: StartedInference): Promise<AuditAdmission> {
    return this.audit.admit([this.invokedEvent(prepared, first)], { linger: true });
  }

  /** `hook.invoked` written now, not at the end of its linger; resolves once it has committed. */
  invokedNow(invoked: AuditAdmission): Promise<void> {
    return this.audit.flush(invoked);
  }

  /**
   * Stores the answer (cards, suggestions, outcome) and records `hook.answered`; resolves once both, and the call's
   * `hook.invoked`, are durable. `invoked` is either the `hook.invoked` admitted at dispatch: `hook.answered` is
   * admitted after it (committed in its INSERT when it is still lingering, else in a later one; never before it), and
   * if the database refuses it `hook.answered` is refused with it, unwritten, and this rejects with its error (nothing
   * is stored when that happened before; when it happens in their shared INSERT the cards row, written alongside,
   * may be stored, as when `hook.answered` alone is refused: the call fails all the same); or, for an answer that
   * was at hand at once (a stored result), the inference to record it for, together with `hook.answered` (one
   * group, admitted all or none, committed in order, usually one INSERT).
   *
   * The events are admitted to the audit queue before the row is written: a full queue refuses the call with nothing
   * stored. Then the row and the events are written at the same time, on their own connections (the row never waits
   * on the audit chain). If the row cannot be stored, `hook.failed` is recorded after `hook.answered` (the events
   * were admitted and will be written) and this rejects (the call fails, unless its deadline answered the EHR with
   * no cards already): the record says the answer it names was not stored.
   */
  async answered(prepared: PreparedHook, answer: CardAnswer, invoked?: InvokedRecord): Promise<void> {
    const { call } = prepared;
    const { requestId, result, cards, detail, suggestions } = answer;
    const answeredEvent = this.event('hook.answered', prepared, {
      inferenceRequestId: requestId,
      resultOutcome: result?.outcome ?? 'pending',
      output: detail.output ?? null,
      findingsDropped: detail.dropped?.map((d) => `${d.index}:${d.reason}`).join(',') ?? null,
      shadow: detail.shadow ?? false,
      cards: cards.length,
      cardIds: cards.map((c) => c.uuid).join(','),
      suggestions: suggestions.length,
    });
    const { durable } =
      invoked === undefined || !('withAnswer' in invoked)
        ? await this.audit.admit([answeredEvent], invoked ? { after: invoked } : {})
        : await this.audit.admit([this.invokedEvent(prepared, invoked.withAnswer), answeredEvent]);
    const stored = this.invocations.answered({
      invocationId: call.invocationId,
      inferenceRequestId: requestId,
      serviceId: call.service.id,
      cards: cards.map((c) => ({ uuid: c.uuid, indicator: c.indicator, content: { ...c } })),
      suggestions,
      detail: { ...detail },
    });
    const [row, audited] = await Promise.allSettled([stored, durable]);
    if (row.status === 'rejected') {
      this.recordStoreFailed(prepared, requestId, row.reason);
      throw row.reason;
    }
    if (audited.status === 'rejected') throw audited.reason;
  }

  /** `hook.failed`: the answer was composed and audited as `hook.answered` but could not be stored. */
  private recordStoreFailed(prepared: PreparedHook, inferenceRequestId: string, e: unknown): void {
    const event = this.event(
      'hook.failed',
      prepared,
      { inferenceRequestId, stage: 'store_answer', error: e instanceof Error ? e.name : 'error' },
      'failure',
    );
    this.audit.record(event).catch((err: unknown) => {
      this.logger.error(`hook.failed not recorded: ${err instanceof Error ? err.name : 'error'}`);
    });
  }

  private invokedEvent(prepared: PreparedHook, first: StartedInference): AuditRecord {
    const { prompt } = prepared;
    return this.event('hook.invoked', prepared, {
      hook: prepared.call.hook.hook,
      inferenceRequestId: first.requestId,
      reused: first.reused,
      promptHash: prompt.hash,
      templateVersion: prompt.templateVersion,
      promptTokens: prompt.manifest.promptTokens,
      factsLeftOut: Object.values(prompt.manifest.omitted).reduce((a, b) => a + b, 0),
    });
  }

  private event(
    action: 'hook.invoked' | 'hook.answered' | 'hook.failed',
    { call, patientRef }: { call: HookCall; patientRef: string },
    detail: AuditDetail,
    outcome: AuditRecord['outcome'] = 'success',
  ): AuditRecord {
    return {
      action,
      outcome,
      service: 'cds-hooks',
      clientId: call.meta.clientId ?? null,
      patientRef,
      requestId: call.meta.requestId,
      hookInstance: call.hook.hookInstance,
      detail: { serviceId: call.service.id, ...detail },
    };
  }
}
