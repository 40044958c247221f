import type { BackendTarget } from '@app/config';
import type { InferenceRequestV1 } from '@app/contracts';
import { BackendError } from './backend-error';
import type { BackendFacts } from './backend-facts';
import type { BackendHttp } from './backend-http';
import { backendRoot } from './backend-root';
import { classifyHttpError } from './http-error-class';
import { readAnswer, type Completion } from './answer-reader';
import { inGenAiSpan } from './gen-ai-span';
import { shapeRequest, withoutTrailingStop } from './request-shaping';

export type { Completion } from './answer-reader';

/** Calls one backend (vLLM or TGI) in the request shape that kind enforces the schema on. */
export class BackendClient {
  /** The engine's root URL (computed once, not per call). */
  private readonly root: string;

  constructor(
    readonly target: BackendTarget,
    private readonly http: BackendHttp,
    private readonly facts: () => BackendFacts | null = () => null,
  ) {
    this.root = backendRoot(target);
  }

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
    let status: number;
    let text: string;
    try {
      const res = await this.http.postJson(`${this.root}${call.path}`, JSON.stringify(call.body), signal);
      status = res.status;
      text = await res.body.text();
    } catch {
      // The only signal is the call's timeout (bounded by the deadline): aborted means timed out.
      throw new BackendError(signal.aborted ? 'timeout' : 'connection', this.target.id);
    }
    if (status < 200 || status > 299)
      throw new BackendError(classifyHttpError(this.target.kind, status, text), this.target.id, status);
    const answer = readAnswer(call.answer, text);
    if (!answer) throw new BackendError('malformed_response', this.target.id);
    return { status, completion: { ...answer, text: withoutTrailingStop(answer.text, stop) } };
  }
}
