import type { Endpoint } from './openai-shapes';
import { chatPromptText, chatRequest, completionRequest, describeIssues, responseFormatShape } from './request-schemas';
import type { ResponseFormatShape } from './types';

/** A completion or chat request, reduced to what the double acts on. */
export interface GenerationRequest {
  model: string | undefined;
  promptText: string;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  responseFormat: ResponseFormatShape;
}

export type ParsedGeneration = { ok: true; request: GenerationRequest } | { ok: false; message: string };

export function parseGenerationRequest(endpoint: Endpoint, body: unknown): ParsedGeneration {
  if (endpoint === 'completion') {
    const parsed = completionRequest.safeParse(body);
    if (!parsed.success) return { ok: false, message: describeIssues(parsed.error) };
    const r = parsed.data;
    return {
      ok: true,
      request: {
        model: r.model,
        promptText: r.prompt,
        stream: r.stream === true,
        includeUsage: r.stream_options?.include_usage === true,
        maxTokens: r.max_tokens ?? undefined,
        responseFormat: responseFormatShape(r.response_format),
      },
    };
  }
  const parsed = chatRequest.safeParse(body);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error) };
  const r = parsed.data;
  return {
    ok: true,
    request: {
      model: r.model,
      promptText: chatPromptText(r.messages),
      stream: r.stream === true,
      includeUsage: r.stream_options?.include_usage === true,
      maxTokens: r.max_completion_tokens ?? r.max_tokens ?? undefined,
      responseFormat: responseFormatShape(r.response_format),
    },
  };
}
