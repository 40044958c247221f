import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { hookPriority, INFERENCE_REQUEST_SCHEMA, type InferenceRequestV1 } from '@app/contracts';
import { InferenceRepository } from '@app/database';
import { InferenceClient, INFERENCE_REQUEST_PATTERN, type OutboundInference } from '@app/messaging';
import { outgoingTraceparent } from '@app/observability';
import type { BuiltPrompt } from '@app/prompts';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import { InferenceReuse } from '../results/inference-reuse.service';
import { ResultWaiter } from '../results/result-waiter.service';
import type { HookCall, StartedInference } from './hook-call';

/**
 * Starts getting the result for a prompt: a fresh stored one for the same prompt (no model run), one already
 * running, or a new inference, recorded and then published. `result()` waits at most until the call's budget.
 */
@Injectable()
export class InferenceStarter {
  private readonly logger = new Logger(InferenceStarter.name);

  constructor(
    private readonly reuse: InferenceReuse,
    private readonly results: ResultWaiter,
    private readonly inferences: InferenceRepository,
    private readonly client: InferenceClient,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  async start(
    call: HookCall,
    prompt: BuiltPrompt,
    priority = hookPriority[call.service.hook],
  ): Promise<StartedInference> {
    const model = this.config.INFERENCE_MODEL;
    const reusable = await this.reuse.find(model, prompt.hash, prompt.templateVersion, call.receivedAt, call.answerBy);
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
    const outbound: OutboundInference = {
      request: this.inferenceRequest(requestId, call, prompt, deadline, priority),
      headers: {
        correlationId: requestId,
        deadlineMs: deadline.getTime(),
        schema: INFERENCE_REQUEST_SCHEMA,
        traceparent: outgoingTraceparent(call.meta.traceparent),
      },
    };
    // An event, never a request-reply: the result comes back through Postgres and the result signal.
    const published = lastValueFrom(this.client.emit(INFERENCE_REQUEST_PATTERN, outbound), { defaultValue: undefined })
      .then(() => undefined)
      .catch(async (e: unknown) => {
        // Marked failed, so calls with the same prompt do not wait on it.
        this.logger.error(`publishing inference request ${requestId} failed: ${e instanceof Error ? e.name : 'error'}`);
        await this.inferences.unpublished(requestId);
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

  private inferenceRequest(
    requestId: string,
    call: HookCall,
    prompt: BuiltPrompt,
    deadline: Date,
    priority: number,
  ): InferenceRequestV1 {
    return {
      schema: INFERENCE_REQUEST_SCHEMA,
      requestId,
      hookInstance: call.hook.hookInstance,
      hook: call.service.hook,
      serviceId: call.service.id,
      model: this.config.INFERENCE_MODEL,
      api: prompt.api,
      ...(prompt.prompt !== undefined ? { prompt: prompt.prompt } : {}),
      ...(prompt.messages !== undefined ? { messages: prompt.messages } : {}),
      maxTokens: prompt.maxTokens,
      temperature: 0,
      outputSchema: prompt.outputSchema,
      ...(prompt.stop.length ? { stop: prompt.stop } : {}),
      templateVersion: prompt.templateVersion,
      promptHash: prompt.hash,
      priority,
      deadline: deadline.toISOString(),
    };
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
