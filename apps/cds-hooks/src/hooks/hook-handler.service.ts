import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { hookPriority } from '@app/contracts';
import { HookInvocationRepository, type AuditDetail } from '@app/database';
import { inSpan } from '@app/observability';
import { PromptBuilder, Summarizer, type ActionOffer, type ClinicalSummary } from '@app/prompts';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import type { CdsResponse } from '../cards/card';
import { callSuggestions, type CallSuggestions } from '../cards/suggestions/call-suggestions';
import { ServiceCatalog } from '../discovery/service-catalog';
import { PoolContextService } from '../model-limits/pool-context.service';
import { PrefetchService } from '../prefetch/prefetch.service';
import { CardAnswerService } from './card-answer.service';
import { admitHook } from './hook-admission';
import type { HookCall, HookCallMeta } from './hook-call';
import { contextResources, type HookContext } from './hook-contexts';
import type { HookRequest } from './hook-request.schema';
import { InferenceStarter } from './inference-starter.service';

export type { HookCallMeta } from './hook-call';

const TRACER = 'meditron-cds-hooks';

/** A step of the hook call as a span (ids, counts and codes only: see @app/observability spans). */
function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  return inSpan(TRACER, name, {}, work);
}

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

  constructor(
    private readonly catalog: ServiceCatalog,
    private readonly prefetch: PrefetchService,
    private readonly summarizer: Summarizer,
    private readonly prompts: PromptBuilder,
    private readonly invocations: HookInvocationRepository,
    private readonly starter: InferenceStarter,
    private readonly answers: CardAnswerService,
    private readonly audit: AuditWriter,
    private readonly poolContext: PoolContextService,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  handle(serviceId: string, hook: HookRequest, meta: HookCallMeta): Promise<CdsResponse> {
    const attributes = {
      'cds_hooks.service_id': serviceId,
      'cds_hooks.hook': hook.hook,
      'meditron.request_id': meta.requestId,
    };
    return inSpan(TRACER, `hook ${serviceId}`, { attributes }, () => this.run(serviceId, hook, meta));
  }

  private async run(serviceId: string, hook: HookRequest, meta: HookCallMeta): Promise<CdsResponse> {
    // KnownServiceGuard let the call through, so the service exists.
    const service = this.catalog.find(serviceId)!;
    const context = await step('hook.validate', async () => admitHook(service, hook));
    const receivedAt = new Date();
    const answerBy = receivedAt.getTime() + (service.budgetMs ?? this.config.HOOK_DEADLINE_MS) - ANSWER_MARGIN_MS;
    const patientRef = `Patient/${context.patientId}`;
    const { data, source } = await step('hook.prefetch', () =>
      this.prefetch.gatherContext({
        service,
        hook,
        userId: context.userId,
        clientId: meta.clientId,
        requestId: meta.requestId,
        patientRef,
      }),
    );
    const summary = await step('hook.summary', async () =>
      this.summarizer.summarize(data, receivedAt, contextResources(context), source),
    );
    // The smaller of the model's context and the smallest any server of the pool accepts (the proxy publishes it).
    const contextTokens = await this.poolContext.contextTokens();
    const offered = callSuggestions(this.catalog, service, context);
    const prompt = await step('hook.prompt', () =>
      this.prompts.build(service.hook, summary, { contextTokens, ...offerOf(offered) }),
    );
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
    const first = await step('hook.dispatch', () => this.starter.start(call, prompt));
    await this.prewarm(call, summary, contextTokens, context);
    await this.auditHook('hook.invoked', call, patientRef, {
      hook: hook.hook,
      inferenceRequestId: first.requestId,
      reused: first.reused,
      promptHash: prompt.hash,
      templateVersion: prompt.templateVersion,
      promptTokens: prompt.manifest.promptTokens,
      factsLeftOut: Object.values(prompt.manifest.omitted).reduce((a, b) => a + b, 0),
    });
    const { requestId, result, cards, detail, suggestions } = await step('hook.wait', () =>
      this.answers.answer(call, prompt, first, offered),
    );
    await this.invocations.answered({
      invocationId: call.invocationId,
      inferenceRequestId: requestId,
      serviceId: service.id,
      cards: cards.map((c) => ({ uuid: c.uuid, indicator: c.indicator, content: { ...c } })),
      suggestions,
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
      suggestions: suggestions.length,
    });
    return { cards };
  }

  /** Starts (does not wait for) the inferences of the services this one warms, at this call's priority. */
  private async prewarm(
    call: HookCall,
    summary: ClinicalSummary,
    contextTokens: number,
    context: HookContext,
  ): Promise<void> {
    for (const id of call.service.prewarm) {
      const target = this.catalog.find(id);
      if (!target) continue;
      try {
        const warm = await this.starter.start(
          { ...call, service: target },
          // The target's own offer, so the prompt (and its hash) is the one its call will build.
          await this.prompts.build(target.hook, summary, {
            contextTokens,
            ...offerOf(callSuggestions(this.catalog, target, context)),
          }),
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

/** The prompt option for a call's offer: none when the service suggests nothing (the prompt is then unchanged). */
function offerOf(offered: CallSuggestions): { actions?: ActionOffer } {
  return offered.offer ? { actions: offered.offer } : {};
}
