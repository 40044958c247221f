import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PromptBuilder, Summarizer, type ActionOffer, type BuiltPrompt, type ClinicalSummary } from '@app/prompts';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import { callSuggestions, type CallSuggestions } from '../cards/suggestions/call-suggestions';
import { ServiceCatalog, type CdsServiceDefinition } from '../discovery/service-catalog';
import { PoolContextService } from '../model-limits/pool-context.service';
import { PrefetchService } from '../prefetch/prefetch.service';
import { admitHook } from './hook-admission';
import type { HookCall, HookCallMeta } from './hook-call';
import { contextResources, type HookContext } from './hook-contexts';
import type { HookRequest } from './hook-request.schema';
import { hookStep } from './hook-span';

/** Time kept back from the budget for storing the answer after the result arrives. */
export const ANSWER_MARGIN_MS = 100;

/** A hook call ready to be dispatched: the call, its parsed context, the summary and the prompt built from it. */
export interface PreparedHook {
  readonly call: HookCall;
  readonly context: HookContext;
  readonly patientRef: string;
  readonly summary: ClinicalSummary;
  /** The context the prompt was budgeted for. */
  readonly contextTokens: number;
  /** What the service may suggest on this call (and the prompt offers the model). */
  readonly offered: CallSuggestions;
  readonly prompt: BuiltPrompt;
}

/**
 * From a hook request to a prompt: admit the call, set its budget, gather the patient's context (prefetch or
 * FHIR), summarize it and build the prompt for the pool's context. Nothing is written or sent here.
 */
@Injectable()
export class HookPreparation {
  constructor(
    private readonly catalog: ServiceCatalog,
    private readonly prefetch: PrefetchService,
    private readonly summarizer: Summarizer,
    private readonly prompts: PromptBuilder,
    private readonly poolContext: PoolContextService,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  async prepare(serviceId: string, hook: HookRequest, meta: HookCallMeta): Promise<PreparedHook> {
    // KnownServiceGuard let the call through, so the service exists.
    const service = this.catalog.find(serviceId)!;
    const context = await hookStep('hook.validate', async () => admitHook(service, hook));
    const receivedAt = new Date();
    const answerBy = receivedAt.getTime() + (service.budgetMs ?? this.config.HOOK_DEADLINE_MS) - ANSWER_MARGIN_MS;
    const patientRef = `Patient/${context.patientId}`;
    const { data, source } = await hookStep('hook.prefetch', () =>
      this.prefetch.gatherContext({
        service,
        hook,
        userId: context.userId,
        clientId: meta.clientId,
        requestId: meta.requestId,
        patientRef,
      }),
    );
    const summary = await hookStep('hook.summary', async () =>
      this.summarizer.summarize(data, receivedAt, contextResources(context), source),
    );
    // The smaller of the model's context and the smallest any server of the pool accepts (the proxy publishes it).
    const contextTokens = await this.poolContext.contextTokens();
    const offered = callSuggestions(this.catalog, service, context);
    const prompt = await hookStep('hook.prompt', () =>
      this.prompts.build(service.hook, summary, { contextTokens, ...offerOf(offered) }),
    );
    const call: HookCall = { invocationId: randomUUID(), service, hook, meta, receivedAt, answerBy };
    return { call, context, patientRef, summary, contextTokens, offered, prompt };
  }

  /** The prompt `target`'s own call would build from the same summary (its own offer, so the same hash). */
  promptFor(prepared: PreparedHook, target: CdsServiceDefinition): Promise<BuiltPrompt> {
    return this.prompts.build(target.hook, prepared.summary, {
      contextTokens: prepared.contextTokens,
      ...offerOf(callSuggestions(this.catalog, target, prepared.context)),
    });
  }
}

/** The prompt option for a call's offer: none when the service suggests nothing (the prompt is then unchanged). */
function offerOf(offered: CallSuggestions): { actions?: ActionOffer } {
  return offered.offer ? { actions: offered.offer } : {};
}
