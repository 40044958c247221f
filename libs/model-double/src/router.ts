import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTROL_PREFIX, handleControl } from './control';
import { openAiError, sendError, unavailableError, type ErrorReply } from './errors';
import type { GenerationEndpoint } from './grammar-rules';
import { BodyTooLargeError, flattenHeaders, parseJson, readBody, sendEmpty, sendJson, sendText } from './http-io';
import { handleGeneration } from './inference';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics';
import { recordedShape } from './request-schemas';
import type { DoubleState } from './state';

const GENERATION_ROUTES: ReadonlyMap<string, GenerationEndpoint> = new Map([
  ['/v1/completions', 'completion'],
  ['/v1/chat/completions', 'chat'],
]);
/** TGI's native routes (router/src/server.rs); vLLM has neither. */
const TGI_GENERATE = '/generate';

function reply(res: ServerResponse, error: ErrorReply): void {
  sendError(res, error);
}

function generationEndpoint(state: DoubleState, path: string): GenerationEndpoint | undefined {
  if (state.flavour === 'tgi' && path === TGI_GENERATE) return 'generate';
  return GENERATION_ROUTES.get(path);
}

/**
 * Every request: probes (/health, /metrics) and controls (/_double/*) are answered directly and not
 * recorded; everything else is recorded, then served. An 'unavailable' fault answers 503 to all but
 * /metrics and the controls; only generation requests use up its count.
 */
export async function route(state: DoubleState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const path = new URL(req.url ?? '/', 'http://double.invalid').pathname;

  let bodyText: string;
  try {
    bodyText = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return reply(res, openAiError(413, error.message));
    throw error;
  }

  if (path.startsWith(CONTROL_PREFIX)) return handleControl(state, method, path, bodyText, res);
  if (path === '/metrics' && method === 'GET') {
    return sendText(
      res,
      200,
      renderMetrics(state.flavour, state.model, state.scheduler.gauges()),
      METRICS_CONTENT_TYPE,
    );
  }
  if (path === '/health' && method === 'GET') {
    return sendEmpty(res, state.faults.peek()?.kind === 'unavailable' ? 503 : 200);
  }

  const json = parseJson(bodyText);
  const body = json.ok ? json.value : json.raw;
  const exchange = state.recorder.open({
    method,
    path,
    body,
    headers: flattenHeaders(req.headers),
    responseFormat: recordedShape(body),
    receivedAt: Date.now(),
  });
  const aborter = new AbortController();
  res.once('finish', () => exchange.finish(res.statusCode >= 200 && res.statusCode < 300));
  res.once('close', () => {
    aborter.abort();
    exchange.finish(false);
  });

  const endpoint = generationEndpoint(state, path);
  if (state.faults.peek()?.kind === 'unavailable') {
    if (endpoint && method === 'POST') state.faults.take();
    exchange.markFaulted();
    return reply(res, unavailableError(state.flavour));
  }
  if (endpoint && method === 'POST') {
    if (!json.ok) return reply(res, openAiError(state.flavour === 'tgi' ? 422 : 400, 'The body is not valid JSON.'));
    return handleGeneration({ state, req, res, exchange, signal: aborter.signal }, endpoint, body);
  }
  if (path === '/v1/models' && method === 'GET') return sendJson(res, 200, modelList(state));
  if (path === '/info' && method === 'GET' && state.flavour === 'tgi') return sendJson(res, 200, tgiInfo(state));
  if (endpoint || path === '/v1/models') return reply(res, openAiError(405, `${method} is not allowed on ${path}`));
  return reply(res, openAiError(404, `No route ${method} ${path}`));
}

function modelList(state: DoubleState): object {
  return {
    object: 'list',
    data: [
      {
        id: state.model,
        object: 'model',
        created: Math.floor(Date.now() / 1000),
        owned_by: state.flavour === 'tgi' ? 'tgi' : 'vllm',
        root: state.model,
        parent: null,
        ...(state.flavour === 'vllm'
          ? { max_model_len: state.engine.limits.maxModelLen, permission: [vllmModelPermission()] }
          : {}),
      },
    ],
  };
}

/** vLLM's `ModelPermission()` defaults, one per card (serving_models.py `show_available_models`). */
function vllmModelPermission(): object {
  return {
    id: `modelperm-${randomUUID().replace(/-/g, '')}`,
    object: 'model_permission',
    created: Math.floor(Date.now() / 1000),
    allow_create_engine: false,
    allow_sampling: true,
    allow_logprobs: true,
    allow_search_indices: false,
    allow_view: true,
    allow_fine_tuning: false,
    organization: '*',
    group: null,
    is_blocking: false,
  };
}

/** TGI `GET /info` (router/src/lib.rs `Info`), the fields a client reads. */
function tgiInfo(state: DoubleState): object {
  const { limits, tgiVersion } = state.engine;
  return {
    model_id: state.model,
    model_sha: null,
    model_pipeline_tag: 'text-generation',
    max_concurrent_requests: 128,
    max_best_of: 2,
    max_stop_sequences: 4,
    max_input_tokens: limits.maxInputTokens,
    max_total_tokens: limits.maxTotalTokens,
    validation_workers: 2,
    max_client_batch_size: 4,
    router: 'text-generation-router',
    version: tgiVersion,
    sha: null,
    docker_label: null,
  };
}
