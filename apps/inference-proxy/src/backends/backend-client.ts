import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { Chat, Completions } from 'openai/resources';
import type { BackendTarget } from '@app/config';
import type { InferenceRequestV1 } from '@app/contracts';
import { BackendError } from './backend-error';
import { responseFormatFor } from './structured-output';

export interface Completion {
  readonly text: string;
  readonly tokensIn: number | null;
  readonly tokensOut: number | null;
}

/** Calls one OpenAI-compatible backend (vLLM or TGI) for completions or chat. */
export class BackendClient {
  private readonly client: OpenAI;

  constructor(readonly target: BackendTarget) {
    // Retries are the pool's job (on another backend, inside the deadline), not the SDK's.
    this.client = new OpenAI({ baseURL: target.baseUrl, apiKey: 'unused', maxRetries: 0 });
  }

  async complete(req: InferenceRequestV1, signal: AbortSignal): Promise<Completion> {
    // vLLM and TGI take fields OpenAI's types do not know (structured output shapes differ by kind), so the
    // body is built here and sent with the SDK's generic post; the answer is read back defensively.
    const common = {
      model: req.model,
      max_tokens: req.maxTokens,
      temperature: req.temperature,
      stream: false,
      ...(req.outputSchema ? { response_format: responseFormatFor(this.target.kind, req.outputSchema) } : {}),
    };
    try {
      if (req.api === 'completion') {
        const res = await this.client.post<Completions.Completion>('/completions', {
          body: { ...common, prompt: req.prompt ?? '' },
          signal,
        });
        return this.read(res.choices?.[0]?.text, res.usage);
      }
      const res = await this.client.post<Chat.ChatCompletion>('/chat/completions', {
        body: { ...common, messages: req.messages ?? [] },
        signal,
      });
      return this.read(res.choices?.[0]?.message?.content, res.usage);
    } catch (e) {
      throw this.mapError(e);
    }
  }

  private read(text: unknown, usage: Completions.CompletionUsage | undefined): Completion {
    if (typeof text !== 'string') throw new BackendError('malformed_response', this.target.id);
    return { text, tokensIn: usage?.prompt_tokens ?? null, tokensOut: usage?.completion_tokens ?? null };
  }

  private mapError(e: unknown): BackendError {
    if (e instanceof BackendError) return e;
    if (e instanceof APIUserAbortError || e instanceof APIConnectionTimeoutError)
      return new BackendError('timeout', this.target.id);
    if (e instanceof APIConnectionError) return new BackendError('connection', this.target.id);
    if (e instanceof APIError) {
      const status = e.status;
      if (status === 429) return new BackendError('overloaded', this.target.id, status);
      if (status === 503)
        return new BackendError(this.target.kind === 'vllm' ? 'overloaded' : 'unavailable', this.target.id, status);
      if (status !== undefined && status >= 400 && status < 500)
        return new BackendError('bad_request', this.target.id, status);
      return new BackendError('unavailable', this.target.id, status);
    }
    if (e instanceof SyntaxError) return new BackendError('malformed_response', this.target.id);
    return new BackendError('unknown', this.target.id);
  }
}
