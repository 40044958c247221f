import type { BackendTarget } from '@app/config';
import type { InferenceRequestV1 } from '@app/contracts';
import { activeTraceHeaders } from '@app/observability';
import { BackendError } from './backend-error';
import type { BackendFacts } from './backend-facts';
import { backendRoot } from './backend-root';
import { classifyHttpError } from './http-error-class';
import { readAnswer, type Completion } from './answer-reader';
import { inGenAiSpan } from './gen-ai-span';
import { shapeRequest, withoutTrailingStop } from './request-shaping';

export type { Completion } from './answer-reader';

/** Calls one backend (vLLM or TGI) in the request shape that kind enforces the schema on. */
export class BackendClient {
  constructor(
    readonly target: BackendTarget,
    private readonly facts: () => BackendFacts | null = () => null,
  ) {}

  complete(req: InferenceRequestV1, signal: AbortSignal): Promise<Completion> {
    return inGenAiSpan(this.target, req, async (span) => {
      const { status, completion } = await this.call(req, signal);
      span.setAttribute('http.response.status_code', status);
      return completion;
    });
  }

  private async call(
    req: InferenceRequestV1,
    signal: AbortSignal,
  ): Promise<{ status: number; completion: Completion }> {
    const stop = req.stop ?? [];
    const call = shapeRequest(
      this.target.kind,
      {
        model: req.model,
        api: req.api,
        ...(req.prompt !== undefined ? { prompt: req.prompt } : {}),
        ...(req.messages !== undefined ? { messages: req.messages } : {}),
        maxTokens: req.maxTokens,
        temperature: req.temperature,
        outputSchema: req.outputSchema,
        stop,
      },
      this.facts(),
    );
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${backendRoot(this.target)}${call.path}`, {
        method: 'POST',
        // The model server's own spans (vLLM with OTLP configured) join the hook's trace.
        headers: { 'content-type': 'application/json', ...activeTraceHeaders() },
        body: JSON.stringify(call.body),
        signal,
      });
      text = await res.text();
    } catch {
      // The only signal is the call's timeout (bounded by the deadline): aborted means timed out.
      throw new BackendError(signal.aborted ? 'timeout' : 'connection', this.target.id);
    }
    if (!res.ok)
      throw new BackendError(classifyHttpError(this.target.kind, res.status, text), this.target.id, res.status);
    const answer = readAnswer(call.answer, text);
    if (!answer) throw new BackendError('malformed_response', this.target.id);
    return { status: res.status, completion: { ...answer, text: withoutTrailingStop(answer.text, stop) } };
  }
}
