import type { IncomingMessage, ServerResponse } from 'node:http';
import { planAnswer, type AnswerPlan } from './answer-plan';
import { openAiError, overloadedError, unavailableError, type ErrorReply } from './errors';
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
  type Endpoint,
  type Usage,
} from './openai-shapes';
import { paceTokens } from './pacing';
import type { Exchange } from './recorder';
import type { GenerationTicket } from './scheduler';
import { sleep } from './sleep';
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
  sendJson(res, error.status, error.body);
}

/** POST /v1/completions and /v1/chat/completions. */
export async function handleGeneration(call: GenerationCall, endpoint: Endpoint, body: unknown): Promise<void> {
  const { state, res } = call;
  const parsed = parseGenerationRequest(endpoint, body);
  if (!parsed.ok) return reply(res, openAiError(400, parsed.message));
  const request = parsed.request;
  if (!state.servesModel(request.model)) {
    return reply(res, openAiError(404, `The model \`${request.model ?? ''}\` does not exist.`, 'model'));
  }

  const fault = state.faults.take();
  if (fault) call.exchange.markFaulted();
  if (fault?.kind === 'overloaded') return reply(res, overloadedError(state.flavour));
  if (fault?.kind === 'unavailable') return reply(res, unavailableError(state.flavour));
  if (fault?.kind === 'disconnect' && !request.stream) {
    call.req.socket.destroy();
    return;
  }

  const plan = planAnswer(request, fault?.kind === 'malformed', () => state.takeResponse());
  const ticket = state.scheduler.admit();
  try {
    if (fault?.kind === 'slow' && !(await sleep(fault.delayMs, call.signal))) return;
    const meta = answerMeta(endpoint, state.model);
    const usage = usageOf(countTokens(request.promptText), plan.tokens.length);
    const answer: Answer = { call, request, plan, meta, usage, ticket, fault };
    await (request.stream ? streamAnswer(answer) : wholeAnswer(answer));
  } finally {
    ticket.finished();
  }
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
