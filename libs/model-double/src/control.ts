import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import { enqueuedResponseSchema, faultPlanSchema, latencySchema } from './control-schemas';
import { openAiError } from './errors';
import { parseJson, sendJson } from './http-io';
import { describeIssues } from './request-schemas';
import type { DoubleState } from './state';

/** The /_double/* endpoints: the in-process controls, for a driver in another process. */
export const CONTROL_PREFIX = '/_double/';

export function handleControl(
  state: DoubleState,
  method: string,
  path: string,
  bodyText: string,
  res: ServerResponse,
): void {
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /_double/stats':
      return sendJson(res, 200, state.recorder.stats());
    case 'GET /_double/requests':
      return sendJson(res, 200, state.recorder.requests());
    case 'GET /_double/faults':
      return sendJson(res, 200, state.faults.list());
    case 'DELETE /_double/faults':
      state.faults.clear();
      return sendJson(res, 200, { ok: true, faults: [] });
    case 'POST /_double/faults':
      return withBody(res, bodyText, faultPlanSchema, (plan) => {
        state.injectFault(plan);
        sendJson(res, 200, { ok: true, faults: state.faults.list() });
      });
    case 'POST /_double/latency':
      return withBody(res, bodyText, latencySchema, (latency) => {
        state.setLatency(latency);
        sendJson(res, 200, { ok: true, latency: state.currentLatency() });
      });
    case 'POST /_double/responses':
      return withBody(res, bodyText, enqueuedResponseSchema, ({ text }) => {
        state.enqueueResponse(text);
        sendJson(res, 200, { ok: true, queued: state.queuedResponses() });
      });
  }
  const known = ['stats', 'requests', 'faults', 'latency', 'responses'].some((name) => path === CONTROL_PREFIX + name);
  const error = known
    ? openAiError(405, `${method} is not allowed on ${path}`)
    : openAiError(404, `No control endpoint ${path}`);
  sendJson(res, error.status, error.body);
}

function withBody<T>(res: ServerResponse, bodyText: string, schema: z.ZodType<T>, use: (value: T) => void): void {
  const json = parseJson(bodyText);
  if (!json.ok) {
    const error = openAiError(400, 'The body is not valid JSON.');
    return sendJson(res, error.status, error.body);
  }
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) {
    const error = openAiError(400, describeIssues(parsed.error));
    return sendJson(res, error.status, error.body);
  }
  use(parsed.data);
}
