import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { hookPriority, INFERENCE_REQUEST_SCHEMA, type InferenceRequestV1 } from '@app/contracts';
import { InferenceOutboxRepository, type NewHookInvocation } from '@app/database';
import { InferenceClient, INFERENCE_REQUEST_PATTERN, type OutboundInference } from '@app/messaging';
import { outgoingTraceparent } from '@app/observability';
import type { BuiltPrompt } from '@app/prompts';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import { InferenceReuse } from '../results/inference-reuse.service';
import { ResultWaiter } from '../results/result-waiter.service';
import { DeliveredOutbox } from './delivered-outbox.service';
import type { HookCall, StartedInference } from './hook-call';

export interface StartOptions {
  /** Queue priority (default: the call's hook's). */
  readonly priority?: number;
  /** The call's own row, stored with the first database round trip (before anything is sent). */
  readonly invocation?: NewHookInvocation;
}

/** How long after the hook's budget the outbox relay takes over a message the inline publish has not delivered. */
const RELAY_GRACE_MS = 1_000;

/**
 * Starts getting the result for a prompt: a fresh stored one for the same prompt (no model run), one already
 * running, or a new inference, recorded with its message (outbox) and then published; what the inline publish
 * cannot deliver, the outbox relay does. `result()` waits at most until the call's budget.
 */
@Injectable()
export class InferenceStarter {
  private readonly logger = new Logger(InferenceStarter.name);

  constructor(
    private readonly reuse: InferenceReuse,
    private readonly results: ResultWaiter,
    private readonly outbox: InferenceOutboxRepository,
    private readonly delivered: DeliveredOutbox,
    private readonly client: InferenceClient,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  async start(call: HookCall, prompt: BuiltPrompt, opts: StartOptions = {}): Promise<StartedInference> {
    const model = this.config.INFERENCE_MODEL;
    const priority = opts.priority ?? hookPriority[call.service.hook];
    const reusable = await this.reuse.find(
      { model, promptHash: prompt.hash, templateVersion: prompt.templateVersion },
      call.receivedAt,
      call.answerBy,
      opts.invocation,
    );
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
    const outbound: OutboundInference = {
      request: this.inferenceRequest(requestId, call, prompt, deadline, priority),
      headers: {
        correlationId: requestId,
        deadlineMs: deadline.getTime(),
        schema: INFERENCE_REQUEST_SCHEMA,
        traceparent: outgoingTraceparent(call.meta.traceparent),
      },
    };
    const queued = await this.outbox.queue(
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
      { ...outbound },
      new Date(call.answerBy + RELAY_GRACE_MS),
      // An identical call that got here first (on any replica) is joined, not repeated.
      this.config.RESULT_FRESH_MS > 0 ? new Date(call.receivedAt.getTime() - this.config.RESULT_FRESH_MS) : null,
      call.answerBy,
    );
    if (!queued.created) {
      const joined = queued.requestId;
      return { requestId: joined, reused: 'pending', result: () => this.results.wait(joined, call.answerBy) };
    }
    // An event, never a request-reply: the result comes back through Postgres and the result signal.
    const published = lastValueFrom(this.client.emit(INFERENCE_REQUEST_PATTERN, outbound), { defaultValue: undefined })
      .then(() => this.delivered.delivered(requestId))
      .catch((e: unknown) => {
        // Still in the outbox: the relay publishes it once a broker is back (or records it expired).
        this.logger.warn(`publishing inference request ${requestId} failed, left to the outbox relay: ${describe(e)}`);
        throw e;
      });
    // The producer retries while a broker is away; the EHR is not kept past its budget for that. A request
    // published late (inline or by the relay) still runs, and its result serves the next call with the same context.
    const delivered = await settledBy(published, call.answerBy).catch(() => false);
    if (!delivered) {
      published.catch(() => undefined);
      return { requestId, reused: 'none', result: async () => undefined };
    }
    return {
      requestId,
      reused: 'none',
      result: () => this.results.wait(requestId, call.answerBy, { published: true }),
    };
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

function describe(e: unknown): string {
  return e instanceof Error ? e.name : 'error';
}
