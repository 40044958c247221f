import type { IncomingMessage, ServerResponse } from 'node:http';
import { planAnswer, type AnswerPlan } from './answer-plan';
import { lengthError } from './context-limits';
import { generationError, openAiError, overloadedError, sendError, unavailableError, type ErrorReply } from './errors';
import type { GenerationEndpoint } from './grammar-rules';
import type { AppliedFault } from './faults';
import { parseGenerationRequest, type GenerationRequest } from './generation-request';
import { sendJson } from './http-io';
import {
  answerMeta,
  finishChunk,
  fullResponse,
  roleChunk,
  tokenChunk,
  usageChunk,
  usageOf,
  type AnswerMeta,
  type Usage,
} from './openai-shapes';
import { paceTokens } from './pacing';
import type { Exchange } from './recorder';
import type { GenerationTicket } from './scheduler';
import { pause as sleep } from '@app/timing';
import { SseStream } from './sse';
import type { DoubleState } from './state';
import { countTokens } from './tokens';

/** One generation request in progress. */
export interface GenerationCall {
  state: DoubleState;
  req: IncomingMessage;
  res: ServerResponse;
  exchange: Exchange;
  /** Aborts when the response closes (client gone, fault, or double closing). */
  signal: AbortSignal;
}

function reply(res: ServerResponse, error: ErrorReply): void {
  sendError(res, error);
}

/** vLLM's queueing time for an 'overloaded' fault without a delay of its own. */
const DEFAULT_QUEUE_MS = 1000;

/** POST /v1/completions, /v1/chat/completions and (TGI) /generate. */
export async function handleGeneration(
  call: GenerationCall,
  endpoint: GenerationEndpoint,
  body: unknown,
): Promise<void> {
  const { state, res } = call;
  const { engine, flavour } = state;
  const parsed = parseGenerationRequest(flavour, endpoint, body, engine.tgiVersion);
  if (!parsed.ok) return reply(res, parsed.error);
  const request = parsed.request;
  call.exchange.setStructured(request.structured);
  if (!state.servesModel(request.model)) {
    return reply(res, openAiError(404, `The model \`${request.model ?? ''}\` does not exist.`, 'model'));
  }
  const tooLong = lengthError(
    flavour,
    request.endpoint,
    engine.limits,
    countTokens(request.promptText),
    request.maxTokens,
  );
  if (tooLong) return reply(res, tooLong);

  const fault = state.faults.take();
  if (fault) call.exchange.markFaulted();
  // vLLM has no queue limit unless started with one: overload is waiting, not a refusal.
  const queueFull = engine.maxNumQueuedReqs !== undefined && state.scheduler.inFlight() >= engine.maxNumQueuedReqs;
  if (fault?.kind === 'overloaded' && (flavour === 'tgi' || engine.maxNumQueuedReqs !== undefined))
    return reply(res, overloadedError(flavour));
  if (queueFull) return reply(res, overloadedError(flavour));
  if (fault?.kind === 'unavailable') return reply(res, unavailableError(flavour));
  if (fault?.kind === 'generation_error') return reply(res, generationError(flavour));
  if (fault?.kind === 'disconnect' && !request.stream) {
    call.req.socket.destroy();
    return;
  }

  const plan = planAnswer(request, fault?.kind === 'malformed', () => state.takeResponse(), engine.mode, flavour);
  const ticket = state.scheduler.admit();
  try {
    if (fault?.kind === 'slow' && !(await sleep(fault.delayMs, call.signal))) return;
    if (fault?.kind === 'overloaded' && !(await sleep(fault.delayMs || DEFAULT_QUEUE_MS, call.signal))) return;
    if (endpoint === 'generate') return await generateAnswer(call, request, plan, ticket);
    const meta = answerMeta(endpoint, state.model);
    const usage = usageOf(countTokens(request.promptText), plan.tokens.length);
    const answer: Answer = { call, request, plan, meta, usage, ticket, fault };
    await (request.stream ? streamAnswer(answer) : wholeAnswer(answer));
  } finally {
    ticket.finished();
  }
}

/** TGI `/generate`: `{generated_text, details}` (router/src/lib.rs `GenerateResponse`, `FinishReason`). */
async function generateAnswer(
  call: GenerationCall,
  request: GenerationRequest,
  plan: AnswerPlan,
  ticket: GenerationTicket,
): Promise<void> {
  const completed = await paceTokens(plan.tokens, call.state.currentLatency(), call.signal, (_t, index) => {
    if (index === 0) ticket.started();
    return Promise.resolve(true);
  });
  if (!completed) return;
  const finish = plan.finish === 'length' ? 'length' : plan.byStopString ? 'stop_sequence' : 'eos_token';
  sendJson(call.res, 200, {
    generated_text: plan.tokens.join(''),
    ...(request.details
      ? {
          details: {
            finish_reason: finish,
            generated_tokens: plan.tokens.length,
            seed: null,
            prefill: [],
            tokens: plan.tokens.map((text, id) => ({ id, text, logprob: 0, special: false })),
          },
        }
      : {}),
  });
}

interface Answer {
  call: GenerationCall;
  request: GenerationRequest;
  plan: AnswerPlan;
  meta: AnswerMeta;
  usage: Usage;
  ticket: GenerationTicket;
  fault: AppliedFault | undefined;
}

async function wholeAnswer({ call, plan, meta, usage, ticket }: Answer): Promise<void> {
  const completed = await paceTokens(plan.tokens, call.state.currentLatency(), call.signal, (_token, index) => {
    if (index === 0) ticket.started();
    return Promise.resolve(true);
  });
  if (!completed) return;
  sendJson(call.res, 200, fullResponse(meta, plan.tokens.join(''), plan.finish, usage));
}

async function streamAnswer({ call, request, plan, meta, usage, ticket, fault }: Answer): Promise<void> {
  const disconnect = fault?.kind === 'disconnect';
  const sse = new SseStream(call.res);
  sse.open();
  let roleSent = false;
  const sendRole = async (): Promise<void> => {
    const role = roleChunk(meta);
    if (role && !roleSent) await sse.send(role);
    roleSent = true;
  };

  const completed = await paceTokens(plan.tokens, call.state.currentLatency(), call.signal, async (token, index) => {
    if (index === 0) {
      ticket.started();
      await sendRole();
    }
    await sse.send(tokenChunk(meta, token));
    return !disconnect && !call.signal.aborted;
  });
  if (disconnect) {
    call.req.socket.destroy();
    return;
  }
  if (!completed) return;
  await sendRole();
  await sse.send(finishChunk(meta, plan.finish));
  if (request.includeUsage) await sse.send(usageChunk(meta, usage));
  sse.done();
}
