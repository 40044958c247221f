import { randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditWriter } from '@app/audit';
import { hookPriority, INFERENCE_REQUEST_SCHEMA, type InferenceRequestV1 } from '@app/contracts';
import { HookInvocationEntity, InferenceRequestEntity, type InferenceResultEntity } from '@app/database';
import { INFERENCE_DISPATCHER, type InferenceDispatcher } from '@app/messaging';
import { childTraceparent } from '@app/observability';
import { findingsJsonSchema, parseFindings, renderPatientView, summarize } from '@app/prompts';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import { buildCards } from '../cards/card-builder';
import type { Card, CdsResponse } from '../cards/card';
import type { CdsServiceDefinition } from '../discovery/service-catalog';
import { HookException } from '../errors/hook-exception';
import { ResultWaiter } from '../results/result-waiter.service';
import { describeIssues, patientViewContext, type HookRequest } from './hook-request.schema';

export interface HookCallMeta {
  readonly requestId: string;
  readonly traceparent: string | undefined;
}

/** Turns one hook call into an inference request, waits for the result within the deadline, answers cards. */
@Injectable()
export class HookHandler {
  private readonly logger = new Logger(HookHandler.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly results: ResultWaiter,
    private readonly audit: AuditWriter,
    @Inject(INFERENCE_DISPATCHER) private readonly dispatcher: InferenceDispatcher,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  async handle(service: CdsServiceDefinition, hook: HookRequest, meta: HookCallMeta): Promise<CdsResponse> {
    const receivedAt = new Date();
    const deadlineMs = receivedAt.getTime() + this.config.HOOK_DEADLINE_MS;
    const context = patientViewContext.safeParse(hook.context);
    if (!context.success) {
      await this.refuse(hook, service, meta, 'invalid_context');
      throw HookException.badRequest(describeIssues(context.error, 'context'));
    }
    const patientRef = `Patient/${context.data.patientId}`;
    const prefetch = hook.prefetch ?? {};
    if (!prefetch.patient) {
      await this.refuse(hook, service, meta, 'prefetch_missing', patientRef);
      throw new HookException(HttpStatus.PRECONDITION_FAILED, [
        {
          code: 'incomplete',
          diagnostics: 'prefetch "patient" is missing and no FHIR fallback is configured',
          expression: 'prefetch.patient',
        },
      ]);
    }

    const invocationId = randomUUID();
    const requestId = randomUUID();
    const prompt = renderPatientView(summarize(prefetch, receivedAt));
    const request: InferenceRequestV1 = {
      schema: INFERENCE_REQUEST_SCHEMA,
      requestId,
      hookInstance: hook.hookInstance,
      hook: hook.hook,
      serviceId: service.id,
      model: this.config.INFERENCE_MODEL,
      api: 'completion',
      prompt: prompt.text,
      maxTokens: 512,
      temperature: 0,
      outputSchema: findingsJsonSchema,
      templateVersion: prompt.templateVersion,
      promptHash: prompt.hash,
      priority: hookPriority[hook.hook as keyof typeof hookPriority] ?? 9,
      deadline: new Date(deadlineMs).toISOString(),
    };

    // The invocation and the request are stored before anything is sent: nothing is in flight unrecorded.
    await this.dataSource.transaction(async (tx) => {
      await tx.getRepository(HookInvocationEntity).insert({
        id: invocationId,
        hookInstance: hook.hookInstance,
        hook: hook.hook,
        serviceId: service.id,
        requestId: meta.requestId,
        patientRef,
        status: 'received',
        cardsReturned: null,
        receivedAt,
        answeredAt: null,
      });
      await tx.getRepository(InferenceRequestEntity).insert({
        requestId,
        hookInvocationId: invocationId,
        model: request.model,
        templateVersion: request.templateVersion,
        promptHash: request.promptHash,
        priority: request.priority,
        status: 'queued',
        deadlineAt: new Date(deadlineMs),
        createdAt: receivedAt,
      });
    });
    await this.audit.record({
      action: 'hook.invoked',
      outcome: 'success',
      service: 'cds-hooks',
      patientRef,
      requestId: meta.requestId,
      hookInstance: hook.hookInstance,
      detail: {
        serviceId: service.id,
        hook: hook.hook,
        inferenceRequestId: requestId,
        promptHash: prompt.hash,
        templateVersion: prompt.templateVersion,
      },
    });

    await this.dispatcher.dispatch(request, {
      correlationId: requestId,
      deadlineMs,
      schema: INFERENCE_REQUEST_SCHEMA,
      traceparent: childTraceparent(meta.traceparent),
    });

    const result = await this.results.wait(requestId, deadlineMs);
    const cards = this.cardsFrom(result);
    await this.dataSource.getRepository(HookInvocationEntity).update(
      { id: invocationId },
      {
        status: cards.length > 0 ? 'answered' : 'answered_empty',
        cardsReturned: cards.length,
        answeredAt: new Date(),
      },
    );
    await this.audit.record({
      action: 'hook.answered',
      outcome: 'success',
      service: 'cds-hooks',
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

  private cardsFrom(result: InferenceResultEntity | undefined): Card[] {
    if (!result || result.outcome !== 'ok' || result.outputText === null) return [];
    const parsed = parseFindings(result.outputText);
    if (!parsed.ok) {
      this.logger.warn(`model output for ${result.requestId} refused: ${parsed.reason}`);
      return [];
    }
    return buildCards(parsed.findings, this.config.INFERENCE_MODEL);
  }

  private async refuse(
    hook: HookRequest,
    service: CdsServiceDefinition,
    meta: HookCallMeta,
    reason: string,
    patientRef?: string,
  ): Promise<void> {
    await this.audit.record({
      action: 'hook.refused',
      outcome: 'refused',
      service: 'cds-hooks',
      patientRef: patientRef ?? null,
      requestId: meta.requestId,
      hookInstance: hook.hookInstance,
      detail: { serviceId: service.id, reason },
    });
  }
}
