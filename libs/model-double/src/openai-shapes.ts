import { randomUUID } from 'node:crypto';

/** Response and stream-chunk bodies in the OpenAI shapes vLLM and TGI send. */

export type Endpoint = 'completion' | 'chat';
export type FinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What every body of one answer shares. */
export interface AnswerMeta {
  endpoint: Endpoint;
  id: string;
  created: number;
  model: string;
}

export function answerMeta(endpoint: Endpoint, model: string): AnswerMeta {
  const prefix = endpoint === 'chat' ? 'chatcmpl' : 'cmpl';
  return {
    endpoint,
    id: `${prefix}-${randomUUID().replace(/-/g, '')}`,
    created: Math.floor(Date.now() / 1000),
    model,
  };
}

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

export function fullResponse(meta: AnswerMeta, text: string, finish: FinishReason, usage: Usage): object {
  const head = { id: meta.id, created: meta.created, model: meta.model };
  if (meta.endpoint === 'chat') {
    return {
      ...head,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null, tool_calls: [] },
          logprobs: null,
          finish_reason: finish,
        },
      ],
      usage,
    };
  }
  return {
    ...head,
    object: 'text_completion',
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
    usage,
  };
}

/** The first chat chunk carries only the role, as vLLM sends it; completions have none. */
export function roleChunk(meta: AnswerMeta): object | undefined {
  if (meta.endpoint !== 'chat') return undefined;
  return chunk(meta, { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });
}

export function tokenChunk(meta: AnswerMeta, token: string): object {
  return meta.endpoint === 'chat'
    ? chunk(meta, { index: 0, delta: { content: token }, logprobs: null, finish_reason: null })
    : chunk(meta, { index: 0, text: token, logprobs: null, finish_reason: null });
}

export function finishChunk(meta: AnswerMeta, finish: FinishReason): object {
  return meta.endpoint === 'chat'
    ? chunk(meta, { index: 0, delta: {}, logprobs: null, finish_reason: finish })
    : chunk(meta, { index: 0, text: '', logprobs: null, finish_reason: finish });
}

/** Sent last when stream_options.include_usage is set: no choices, just usage. */
export function usageChunk(meta: AnswerMeta, usage: Usage): object {
  return { ...chunkHead(meta), choices: [], usage };
}

function chunkHead(meta: AnswerMeta): object {
  return {
    id: meta.id,
    object: meta.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    created: meta.created,
    model: meta.model,
  };
}

function chunk(meta: AnswerMeta, choice: object): object {
  return { ...chunkHead(meta), choices: [choice] };
}
