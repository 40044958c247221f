import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { hookPriority } from '@app/contracts';
import { HookInvocationRepository, type AuditDetail } from '@app/database';
import { buildPrompt, summarize, type ClinicalSummary, type ModelProfile } from '@app/prompts';
import { CDS_HOOKS_CONFIG, modelProfileOf, type CdsHooksConfig } from '../cds-hooks.config';
import type { CdsResponse } from '../cards/card';
import { ServiceCatalog } from '../discovery/service-catalog';
import { PoolContextService } from '../model-limits/pool-context.service';
import { PrefetchService } from '../prefetch/prefetch.service';
import { CardAnswerService } from './card-answer.service';
import { admitHook } from './hook-admission';
import type { HookCall, HookCallMeta } from './hook-call';
import { contextResources } from './hook-contexts';
import type { HookRequest } from './hook-request.schema';
import { InferenceStarter } from './inference-starter.service';

export type { HookCallMeta } from './hook-call';

/** Time kept back from the budget for storing the answer after the result arrives. */
const ANSWER_MARGIN_MS = 100;

/**
 * Turns one hook call into cards, top to bottom: admit the call, gather the context, build the prompt, record
 * the call, start (or reuse) the inference, warm the services this one prewarms, wait for the answer within the
 * service's budget, store and audit it. A late result is stored all the same and serves the next call.
 */
@Injectable()
export class HookHandler {
  private readonly logger = new Logger(HookHandler.name);
  private readonly profile: ModelProfile;

  constructor(
    private readonly catalog: ServiceCatalog,
    private readonly prefetch: PrefetchService,
    private readonly invocations: HookInvocationRepository,
    private readonly starter: InferenceStarter,
    private readonly answers: CardAnswerService,
    private readonly audit: AuditWriter,
    private readonly poolContext: PoolContextService,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {
    this.profile = modelProfileOf(config);
  }

  async handle(serviceId: string, hook: HookRequest, meta: HookCallMeta): Promise<CdsResponse> {
    // KnownServiceGuard let the call through, so the service exists.
    const service = this.catalog.find(serviceId)!;
    const context = admitHook(service, hook);
    const receivedAt = new Date();
    const answerBy = receivedAt.getTime() + (service.budgetMs ?? this.config.HOOK_DEADLINE_MS) - ANSWER_MARGIN_MS;
    const patientRef = `Patient/${context.patientId}`;
    const { data, source } = await this.prefetch.gatherContext({
      service,
      hook,
      userId: context.userId,
      clientId: meta.clientId,
      requestId: meta.requestId,
      patientRef,
    });
    const summary = summarize(data, receivedAt, contextResources(context), source);
    // The smaller of the model's context and the smallest any server of the pool accepts (the proxy publishes it).
    const contextTokens = await this.poolContext.contextTokens();
    const prompt = await buildPrompt(service.hook, summary, this.profile, { contextTokens });
    const call: HookCall = { invocationId: randomUUID(), service, hook, meta, receivedAt, answerBy };
    // Stored before anything is sent, so nothing is in flight unrecorded.
    await this.invocations.received(
      {
        id: call.invocationId,
        hookInstance: hook.hookInstance,
        hook: hook.hook,
        serviceId: service.id,
        requestId: meta.requestId,
        clientId: meta.clientId ?? null,
        patientRef,
        receivedAt,
      },
      answerBy,
    );
    const first = await this.starter.start(call, prompt);
    await this.prewarm(call, summary, contextTokens);
    await this.auditHook('hook.invoked', call, patientRef, {
      hook: hook.hook,
      inferenceRequestId: first.requestId,
      reused: first.reused,
      promptHash: prompt.hash,
      templateVersion: prompt.templateVersion,
      promptTokens: prompt.manifest.promptTokens,
      factsLeftOut: Object.values(prompt.manifest.omitted).reduce((a, b) => a + b, 0),
    });
    const { requestId, result, cards, detail } = await this.answers.answer(call, prompt, first);
    await this.invocations.answered({
      invocationId: call.invocationId,
      inferenceRequestId: requestId,
      serviceId: service.id,
      cards: cards.map((c) => ({ uuid: c.uuid, indicator: c.indicator, content: { ...c } })),
      detail: { ...detail },
    });
    await this.auditHook('hook.answered', call, patientRef, {
      inferenceRequestId: requestId,
      resultOutcome: result?.outcome ?? 'pending',
      output: detail.output ?? null,
      findingsDropped: detail.dropped?.map((d) => `${d.index}:${d.reason}`).join(',') ?? null,
      shadow: detail.shadow ?? false,
      cards: cards.length,
      cardIds: cards.map((c) => c.uuid).join(','),
    });
    return { cards };
  }

  /** Starts (does not wait for) the inferences of the services this one warms, at this call's priority. */
  private async prewarm(call: HookCall, summary: ClinicalSummary, contextTokens: number): Promise<void> {
    for (const id of call.service.prewarm) {
      const target = this.catalog.find(id);
      if (!target) continue;
      try {
        const warm = await this.starter.start(
          { ...call, service: target },
          await buildPrompt(target.hook, summary, this.profile, { contextTokens }),
          hookPriority[call.service.hook],
        );
        this.logger.debug(`prewarmed ${target.id} with ${warm.requestId} (${warm.reused})`);
      } catch (e) {
        this.logger.warn(`prewarming ${target.id} failed: ${e instanceof Error ? e.name : 'error'}`);
      }
    }
  }

  private auditHook(
    action: 'hook.invoked' | 'hook.answered',
    call: HookCall,
    patientRef: string,
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
