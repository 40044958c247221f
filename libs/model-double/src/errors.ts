import type { DoubleFlavour } from './types';

/** Error bodies as the real servers send them. */

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

export interface TgiErrorBody {
  error: string;
  error_type: string;
}

export interface ErrorReply {
  status: number;
  body: OpenAiErrorBody | TgiErrorBody;
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  405: 'MethodNotAllowedError',
  413: 'BadRequestError',
  503: 'ServiceUnavailableError',
};

export function openAiError(status: number, message: string, param: string | null = null): ErrorReply {
  return {
    status,
    body: { error: { message, type: OPENAI_TYPES[status] ?? 'InternalServerError', param, code: status } },
  };
}

/** Queue full: vLLM answers 503 in the OpenAI shape, TGI 429 in its own shape. */
export function overloadedError(flavour: DoubleFlavour): ErrorReply {
  if (flavour === 'tgi') {
    return { status: 429, body: { error: 'Model is overloaded', error_type: 'overloaded' } };
  }
  return openAiError(503, 'The server is overloaded: the request queue is full. Try again later.');
}

/** Server up but not serving (loading, draining, or broken). */
export function unavailableError(flavour: DoubleFlavour): ErrorReply {
  if (flavour === 'tgi') {
    return { status: 503, body: { error: 'Model is unavailable', error_type: 'unavailable' } };
  }
  return openAiError(503, 'The model server is unavailable.');
}
