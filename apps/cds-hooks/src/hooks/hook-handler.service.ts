import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { hookPriority, INFERENCE_REQUEST_SCHEMA, type InferenceRequestV1 } from '@app/contracts';
import {
  HookInvocationRepository,
  InferenceRepository,
  type AuditDetail,
  type InferenceResultEntity,
} from '@app/database';
import { INFERENCE_DISPATCHER, type InferenceDispatcher } from '@app/messaging';
import { childTraceparent } from '@app/observability';
import {
  buildPrompt,
  findingsJsonSchema,
  repairPrompt,
  summarize,
  type BuiltPrompt,
  type ClinicalSummary,
  type ModelProfile,
} from '@app/prompts';
import { CDS_HOOKS_CONFIG, modelProfileOf, type CdsHooksConfig } from '../cds-hooks.config';
import type { Card, CdsResponse } from '../cards/card';
import { composeCards, type AnswerDetail } from '../cards/card-composer';
import { ServiceCatalog, type CdsServiceDefinition } from '../discovery/service-catalog';
import { PrefetchService } from '../prefetch/prefetch.service';
import { InferenceReuse, type Reusable } from '../results/inference-reuse.service';
import { ResultWaiter } from '../results/result-waiter.service';
import { contextResources, type HookContext } from './hook-contexts';
import type { HookRequest } from './hook-request.schema';

interface InferenceCall {
  readonly invocationId: string;
  readonly service: CdsServiceDefinition;
  readonly hook: HookRequest;
  readonly meta: HookCallMeta;
  readonly receivedAt: Date;
  readonly answerBy: number;
}

interface Started {
  readonly requestId: string;
  readonly reused: Reusable['kind'];
  result(): Promise<InferenceResultEntity | undefined>;
}

export interface HookCallMeta {
  readonly requestId: string;
  readonly traceparent: string | undefined;
  readonly clientId: string | undefined;
}

/** Time kept back from the budget for storing the answer after the result arrives. */
const ANSWER_MARGIN_MS = 100;

/**
 * Turns one hook call into cards: gathers the context, reuses a fresh inference for the same prompt or
 * starts one, and waits for it only within the service's budget. A late result is stored all the same
 * and serves the next call with the same context.
 */
@Injectable()
export class HookHandler {
  private readonly logger = new Logger(HookHandler.name);
  private readonly profile: ModelProfile;

  constructor(
    private readonly invocations: HookInvocationRepository,
    private readonly inferences: InferenceRepository,
    private readonly results: ResultWaiter,
    private readonly reuse: InferenceReuse,
    private readonly prefetch: PrefetchService,
    private readonly audit: AuditWriter,
    private readonly catalog: ServiceCatalog,
    @Inject(INFERENCE_DISPATCHER) private readonly dispatcher: InferenceDispatcher,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {
    this.profile = modelProfileOf(config);
  }

  async handle(
    service: CdsServiceDefinition,
    hook: HookRequest,
    context: HookContext,
    meta: HookCallMeta,
  ): Promise<CdsResponse> {
    const receivedAt = new Date();
    const answerBy = receivedAt.getTime() + (service.budgetMs ?? this.config.HOOK_DEADLINE_MS) - ANSWER_MARGIN_MS;
    const patientRef = `Patient/${context.patientId}`;
    const data = await this.prefetch.gather({
      service,
      hook,
      userId: context.userId,
      clientId: meta.clientId,
      requestId: meta.requestId,
      patientRef,
    });
    const summary = summarize(data, receivedAt, contextResources(context));
    const prompt = await buildPrompt(service.hook, summary, this.profile);
    const invocationId = randomUUID();
    // Stored before anything is sent; rides out a cut connection within the budget.
    await this.invocations.received(
      {
        id: invocationId,
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
    const call: InferenceCall = { invocationId, service, hook, meta, receivedAt, answerBy };
    const first = await this.start(call, prompt);
    await this.prewarm(call, summary);
    await this.auditHook('hook.invoked', call, patientRef, {
      hook: hook.hook,
      inferenceRequestId: first.requestId,
      reused: first.reused,
      promptHash: prompt.hash,
      templateVersion: prompt.templateVersion,
      promptTokens: prompt.manifest.promptTokens,
      factsLeftOut: Object.values(prompt.manifest.omitted).reduce((a, b) => a + b, 0),
    });
    let requestId = first.requestId;
    let result = await first.result();
    let { cards, detail } = composeCards(result, prompt.manifest.references, service, this.profile);
    // At most one repair attempt, and only while the budget lasts: the same prompt with a stricter reminder.
    if ((detail.output === 'not_json' || detail.output === 'schema_mismatch') && Date.now() < answerBy) {
      const repair = await this.start(call, repairPrompt(prompt));
      requestId = repair.requestId;
      result = await repair.result();
      const repaired = composeCards(result, prompt.manifest.references, service, this.profile);
      cards = repaired.cards;
      detail = {
        ...repaired.detail,
        repair:
          repaired.detail.output === 'valid'
            ? 'succeeded'
            : `failed:${repaired.detail.output ?? repaired.detail.result}`,
        firstOutput: detail.output,
      };
    }
    if (detail.dropped || detail.repair || detail.output === 'not_json' || detail.output === 'schema_mismatch') {
      this.logger.warn(
        `model answer for ${requestId}: output ${detail.output ?? 'n/a'}, repair ${detail.repair ?? 'none'}, ${detail.dropped?.length ?? 0} findings dropped`,
      );
    }
    await this.answer(invocationId, requestId, service, cards, detail);
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

  private auditHook(
    action: 'hook.invoked' | 'hook.answered',
    call: InferenceCall,
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

  /** Starts (does not wait for) the inferences of the services this one warms, at this call's priority. */
  private async prewarm(call: InferenceCall, summary: ClinicalSummary): Promise<void> {
    for (const id of call.service.prewarm) {
      const target = this.catalog.find(id);
      if (!target) continue;
      try {
        const warm = await this.start(
          { ...call, service: target },
          await buildPrompt(target.hook, summary, this.profile),
          hookPriority[call.service.hook],
        );
        this.logger.debug(`prewarmed ${target.id} with ${warm.requestId} (${warm.reused})`);
      } catch (e) {
        this.logger.warn(`prewarming ${target.id} failed: ${e instanceof Error ? e.name : 'error'}`);
      }
    }
  }

  /**
   * Starts getting the result for a prompt: a fresh stored one for the same prompt (no model run), one already
   * running, or a new inference, recorded and then published. `result()` waits at most until the call's budget.
   */
  private async start(
    call: InferenceCall,
    prompt: BuiltPrompt,
    priority = hookPriority[call.service.hook],
  ): Promise<Started> {
    const model = this.config.INFERENCE_MODEL;
    const reusable = await this.reuse.find(model, prompt.hash, prompt.templateVersion, call.receivedAt);
    if (reusable.kind === 'result')
      return { requestId: reusable.requestId, reused: 'result', result: async () => reusable.result };
    if (reusable.kind === 'pending')
      return {
        requestId: reusable.requestId,
        reused: 'pending',
        result: () => this.results.wait(reusable.requestId, call.answerBy),
      };
    const requestId = randomUUID();
    const deadline = new Date(Date.now() + this.config.INFERENCE_DEADLINE_MS);
    await this.inferences.queued(
      {
        requestId,
        hookInvocationId: call.invocationId,
        model,
        templateVersion: prompt.templateVersion,
        promptHash: prompt.hash,
        priority,
        deadlineAt: deadline,
        contextManifest: { ...prompt.manifest },
        createdAt: new Date(),
      },
      call.answerBy,
    );
    const published = this.dispatcher
      .dispatch(this.inferenceRequest(requestId, call.service, call.hook, prompt, deadline, priority), {
        correlationId: requestId,
        deadlineMs: deadline.getTime(),
        schema: INFERENCE_REQUEST_SCHEMA,
        traceparent: childTraceparent(call.meta.traceparent),
      })
      .catch(async (e: unknown) => {
        await this.unpublished(requestId, e);
        throw e;
      });
    // The producer retries while a broker is away; the EHR is not kept past its budget for that. A request
    // published late still runs, and its result serves the next call with the same context.
    if (!(await settledBy(published, call.answerBy))) {
      published.catch(() => undefined);
      return { requestId, reused: 'none', result: async () => undefined };
    }
    return { requestId, reused: 'none', result: () => this.results.wait(requestId, call.answerBy) };
  }

  /** A request that could not be published is marked failed, so calls with the same prompt do not wait on it. */
  private async unpublished(requestId: string, e: unknown): Promise<void> {
    this.logger.error(`publishing inference request ${requestId} failed: ${e instanceof Error ? e.name : 'error'}`);
    await this.inferences.unpublished(requestId);
  }

  private inferenceRequest(
    requestId: string,
    service: CdsServiceDefinition,
    hook: HookRequest,
    prompt: BuiltPrompt,
    deadline: Date,
    priority: number,
  ): InferenceRequestV1 {
    return {
      schema: INFERENCE_REQUEST_SCHEMA,
      requestId,
      hookInstance: hook.hookInstance,
      hook: service.hook,
      serviceId: service.id,
      model: this.config.INFERENCE_MODEL,
      api: prompt.api,
      ...(prompt.prompt !== undefined ? { prompt: prompt.prompt } : {}),
      ...(prompt.messages !== undefined ? { messages: prompt.messages } : {}),
      maxTokens: prompt.maxTokens,
      temperature: 0,
      outputSchema: findingsJsonSchema,
      templateVersion: prompt.templateVersion,
      promptHash: prompt.hash,
      priority,
      deadline: deadline.toISOString(),
    };
  }

  private async answer(
    invocationId: string,
    requestId: string,
    service: CdsServiceDefinition,
    cards: Card[],
    detail: AnswerDetail,
  ): Promise<void> {
    await this.invocations.answered({
      invocationId,
      inferenceRequestId: requestId,
      serviceId: service.id,
      cardUuids: cards.map((c) => c.uuid),
      detail: { ...detail },
    });
  }
}

/** True once `work` resolved, false if `byMs` (epoch ms) came first; rejects if `work` rejected first. */
async function settledBy(work: Promise<void>, byMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>(
    (resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, byMs - Date.now()))),
  );
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
