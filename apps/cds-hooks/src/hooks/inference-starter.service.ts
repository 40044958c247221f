import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { hookPriority, INFERENCE_REQUEST_SCHEMA, type InferenceRequestV1 } from '@app/contracts';
import { InferenceOutboxRepository, type NewHookInvocation } from '@app/database';
import { InferenceClient, INFERENCE_REQUEST_PATTERN, type OutboundInference } from '@app/messaging';
import { outgoingTraceparent } from '@app/observability';
import type { BuiltPrompt } from '@app/prompts';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import { ResultWaiter } from '../results/result-waiter.service';
import { DeliveredOutbox } from './delivered-outbox.service';
import type { HookCall, StartedInference } from './hook-call';

export interface StartOptions {
  /** Queue priority (default: the call's hook's). */
  readonly priority?: number;
  /** The call's own row, stored with the first database round trip (before anything is sent). */
  readonly invocation?: NewHookInvocation;
}

/** Recent requests for the same prompt looked at for reuse, newest first. */
const REUSE_CANDIDATES = 3;

/** How long after the hook's budget the outbox relay takes over a message the inline publish has not delivered. */
const RELAY_GRACE_MS = 1_000;

/**
 * Starts getting the result for a prompt: a fresh stored one for the same prompt (no model run), one already
 * running, or a new inference, recorded with its message (outbox) and then published; what the inline publish
 * cannot deliver, the outbox relay does. Which of these, and the call's own row, is one statement (one round trip,
 * `InferenceOutboxRepository.start`). `result()` waits at most until the call's budget.
 */
@Injectable()
export class InferenceStarter {
  private readonly logger = new Logger(InferenceStarter.name);

  constructor(
    private readonly results: ResultWaiter,
    private readonly outbox: InferenceOutboxRepository,
    private readonly delivered: DeliveredOutbox,
    private readonly client: InferenceClient,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  async start(call: HookCall, prompt: BuiltPrompt, opts: StartOptions = {}): Promise<StartedInference> {
    const model = this.config.INFERENCE_MODEL;
    const priority = opts.priority ?? hookPriority[call.service.hook];
    // Built before the one round trip that decides whether it is sent: the call's row, the reuse look-up and the
    // queueing are one statement.
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
    const fresh =
      this.config.RESULT_FRESH_MS > 0 ? new Date(call.receivedAt.getTime() - this.config.RESULT_FRESH_MS) : null;
    const dispatched = await this.outbox.start(
      {
        call: opts.invocation ?? null,
        // A fresh stored result for the same prompt is served without a model run, one still running is waited for.
        reuseSince: fresh,
        reuseTake: REUSE_CANDIDATES,
        now: call.receivedAt,
        request: {
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
        message: { ...outbound },
        firstRelayAt: new Date(call.answerBy + RELAY_GRACE_MS),
        // An identical call that got here first (on any replica) is joined, not repeated.
        joinSince: fresh,
      },
      call.answerBy,
    );
    if (dispatched.kind === 'result') {
      const { result } = dispatched;
      return { requestId: dispatched.requestId, reused: 'result', result: async () => result };
    }
    if (dispatched.kind !== 'created') {
      const joined = dispatched.requestId;
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
