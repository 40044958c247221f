import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditWriter } from '@app/audit';
import { hookPriority, INFERENCE_REQUEST_SCHEMA, type InferenceRequestV1 } from '@app/contracts';
import { CdsCardEntity, HookInvocationEntity, InferenceRequestEntity, type InferenceResultEntity } from '@app/database';
import { INFERENCE_DISPATCHER, type InferenceDispatcher } from '@app/messaging';
import { childTraceparent } from '@app/observability';
import { findingsJsonSchema, parseFindings, renderHookPrompt, summarize, type RenderedPrompt } from '@app/prompts';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import { buildCards } from '../cards/card-builder';
import type { Card, CdsResponse } from '../cards/card';
import type { CdsServiceDefinition } from '../discovery/service-catalog';
import { PrefetchService } from '../prefetch/prefetch.service';
import { InferenceReuse } from '../results/inference-reuse.service';
import { ResultWaiter } from '../results/result-waiter.service';
import { contextResources, type HookContext } from './hook-contexts';
import type { HookRequest } from './hook-request.schema';

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

  constructor(
    private readonly dataSource: DataSource,
    private readonly results: ResultWaiter,
    private readonly reuse: InferenceReuse,
    private readonly prefetch: PrefetchService,
    private readonly audit: AuditWriter,
    @Inject(INFERENCE_DISPATCHER) private readonly dispatcher: InferenceDispatcher,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  async handle(service: CdsServiceDefinition, hook: HookRequest, context: HookContext, meta: HookCallMeta): Promise<CdsResponse> {
    const receivedAt = new Date();
    const answerBy = receivedAt.getTime() + (service.budgetMs ?? this.config.HOOK_DEADLINE_MS) - ANSWER_MARGIN_MS;
    const patientRef = `Patient/${context.patientId}`;
    const data = await this.prefetch.gather({ service, hook, userId: context.userId, clientId: meta.clientId, requestId: meta.requestId, patientRef });
    const prompt = renderHookPrompt(service.hook, summarize(data, receivedAt, contextResources(context)));
    const model = this.config.INFERENCE_MODEL;
    const reusable = await this.reuse.find(model, prompt.hash, prompt.templateVersion, receivedAt);

    const invocationId = randomUUID();
    const requestId = reusable.kind === 'none' ? randomUUID() : reusable.requestId;
    const inferenceDeadline = new Date(receivedAt.getTime() + this.config.INFERENCE_DEADLINE_MS);
    // The invocation (and a new inference request) are stored before anything is sent: nothing is in flight unrecorded.
    await this.dataSource.transaction(async (tx) => {
      await tx.getRepository(HookInvocationEntity).insert({
        id: invocationId,
        hookInstance: hook.hookInstance,
        hook: hook.hook,
        serviceId: service.id,
        requestId: meta.requestId,
        clientId: meta.clientId ?? null,
        patientRef,
        inferenceRequestId: null,
        status: 'received',
        cardsReturned: null,
        receivedAt,
        answeredAt: null,
      });
      if (reusable.kind === 'none') {
        await tx.getRepository(InferenceRequestEntity).insert({
          requestId,
          hookInvocationId: invocationId,
          model,
          templateVersion: prompt.templateVersion,
          promptHash: prompt.hash,
          priority: hookPriority[service.hook],
          status: 'queued',
          deadlineAt: inferenceDeadline,
          createdAt: receivedAt,
        });
      }
    });
    await this.audit.record({
      action: 'hook.invoked',
      outcome: 'success',
      service: 'cds-hooks',
      clientId: meta.clientId ?? null,
      patientRef,
      requestId: meta.requestId,
      hookInstance: hook.hookInstance,
      detail: {
        serviceId: service.id,
        hook: hook.hook,
        inferenceRequestId: requestId,
        reused: reusable.kind,
        promptHash: prompt.hash,
        templateVersion: prompt.templateVersion,
      },
    });

    if (reusable.kind === 'none') {
      await this.dispatcher.dispatch(this.inferenceRequest(requestId, service, hook, prompt, inferenceDeadline), {
        correlationId: requestId,
        deadlineMs: inferenceDeadline.getTime(),
        schema: INFERENCE_REQUEST_SCHEMA,
        traceparent: childTraceparent(meta.traceparent),
      });
    }
    const result = reusable.kind === 'result' ? reusable.result : await this.results.wait(requestId, answerBy);
    const cards = this.cardsFrom(result);
    await this.answer(invocationId, requestId, service, cards);
    await this.audit.record({
      action: 'hook.answered',
      outcome: 'success',
      service: 'cds-hooks',
      clientId: meta.clientId ?? null,
      patientRef,
      requestId: meta.requestId,
      hookInstance: hook.hookInstance,
      detail: {
        serviceId: service.id,
        inferenceRequestId: requestId,
        resultOutcome: result?.outcome ?? 'pending',
        cards: cards.length,
        cardIds: cards.map((c) => c.uuid).join(','),
      },
    });
    return { cards };
  }

  private inferenceRequest(
    requestId: string,
    service: CdsServiceDefinition,
    hook: HookRequest,
    prompt: RenderedPrompt,
    deadline: Date,
  ): InferenceRequestV1 {
    return {
      schema: INFERENCE_REQUEST_SCHEMA,
      requestId,
      hookInstance: hook.hookInstance,
      hook: service.hook,
      serviceId: service.id,
      model: this.config.INFERENCE_MODEL,
      api: 'completion',
      prompt: prompt.text,
      maxTokens: 512,
      temperature: 0,
      outputSchema: findingsJsonSchema,
      templateVersion: prompt.templateVersion,
      promptHash: prompt.hash,
      priority: hookPriority[service.hook],
      deadline: deadline.toISOString(),
    };
  }

  private async answer(invocationId: string, requestId: string, service: CdsServiceDefinition, cards: Card[]): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      if (cards.length > 0) {
        await tx.getRepository(CdsCardEntity).insert(
          cards.map((c) => ({ uuid: c.uuid, hookInvocationId: invocationId, inferenceRequestId: requestId, serviceId: service.id, createdAt: new Date() })),
        );
      }
      await tx.getRepository(HookInvocationEntity).update(
        { id: invocationId },
        {
          status: cards.length > 0 ? 'answered' : 'answered_empty',
          inferenceRequestId: requestId,
          cardsReturned: cards.length,
          answeredAt: new Date(),
        },
      );
    });
  }

  private cardsFrom(result: InferenceResultEntity | undefined): Card[] {
    if (!result || result.outcome !== 'ok' || result.outputText === null) return [];
    const parsed = parseFindings(result.outputText);
    if (!parsed.ok) {
      this.logger.warn(`model output for ${result.requestId} refused: ${parsed.reason}`);
      return [];
    }
    return buildCards(parsed.findings, this.config.INFERENCE_MODEL);
  }
}
