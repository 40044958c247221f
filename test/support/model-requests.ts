import type { ModelDouble, RecordedRequest } from '@app/model-double';

/**
 * The generation calls the double received, oldest first. Its full recording also holds the proxy's
 * `GET /v1/models` discovery probes, which land at any moment: "the last request" is not "the last model run".
 */
export function generationRequests(double: ModelDouble): RecordedRequest[] {
  return double.requests().filter((r) => r.method === 'POST' && /\/(completions|generate)$/.test(r.path));
}

/** The prompt of the most recent generation call (completions `prompt` or TGI `inputs`). */
export function lastPrompt(double: ModelDouble): string {
  const last = generationRequests(double).at(-1);
  if (!last) throw new Error('the model double received no generation call');
  const body = last.body as { prompt?: unknown; inputs?: unknown };
  const prompt = body.prompt ?? body.inputs;
  if (typeof prompt !== 'string') throw new Error(`the last generation call to ${last.path} carried no prompt`);
  return prompt;
}
