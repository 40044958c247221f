import type { ServerResponse } from 'node:http';
import { sendEmpty, sendJson, sendText } from './http-io';
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
  /** A string body is sent as text/plain (axum's own rejections), an empty one as nothing; objects as JSON. */
  body: OpenAiErrorBody | TgiErrorBody | string;
}

/** axum's `Json` extractor rejection: 422 with a plain-text body (TGI's router uses axum). */
export function tgiDeserializeError(detail: string): ErrorReply {
  return { status: 422, body: `Failed to deserialize the JSON body into the target type: ${detail}` };
}

/** TGI `InferError::ValidationError` -> 422 `{error, error_type: "validation"}` (router/src/server.rs). */
export function tgiValidationError(message: string): ErrorReply {
  return { status: 422, body: { error: message, error_type: 'validation' } };
}

/**
 * Generation failed: TGI `InferError::GenerationError` -> 424 with its JSON body. vLLM's AsyncLLM raises
 * `EngineGenerateError` / `EngineDeadError`, which entrypoints/launcher.py `_add_shutdown_handlers` answers with
 * a bare `Response(status_code=500)`: no body at all, so a client has nothing to parse.
 */
export function generationError(flavour: DoubleFlavour): ErrorReply {
  if (flavour === 'tgi')
    return {
      status: 424,
      body: { error: 'Request failed during generation: Server error: CUDA error', error_type: 'generation' },
    };
  return { status: 500, body: EMPTY_BODY };
}

/** A reply with no body and no content type (Starlette's bare `Response`). */
const EMPTY_BODY = '';

const OPENAI_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  405: 'MethodNotAllowedError',
  413: 'BadRequestError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

export function openAiError(status: number, message: string, param: string | null = null): ErrorReply {
  return {
    status,
    body: { error: { message, type: OPENAI_TYPES[status] ?? 'InternalServerError', param, code: status } },
  };
}

/** Queue full: vLLM (only with --max-num-queued-reqs) answers 503 in the OpenAI shape, TGI 429 in its own. */
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

/** Sends an error reply: JSON bodies as JSON, axum's plain-text rejections as text. */
export function sendError(res: ServerResponse, error: ErrorReply): void {
  if (error.body === EMPTY_BODY) sendEmpty(res, error.status);
  else if (typeof error.body === 'string') sendText(res, error.status, error.body, 'text/plain; charset=utf-8');
  else sendJson(res, error.status, error.body);
}
