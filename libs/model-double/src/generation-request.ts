import { z } from 'zod';
import { openAiError, tgiDeserializeError, tgiValidationError, type ErrorReply } from './errors';
import { grammarVerdict, type GenerationEndpoint } from './grammar-rules';
import { chatPromptText, chatRequest, completionRequest, describeIssues } from './request-schemas';
import type { DoubleFlavour } from './types';

/** A generation request, reduced to what the double acts on. */
export interface GenerationRequest {
  endpoint: GenerationEndpoint;
  model: string | undefined;
  promptText: string;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  stop: string[];
  /** A grammar is in force: what this flavour really enforces on this endpoint. */
  structured: boolean;
  /** TGI /generate `parameters.details`. */
  details: boolean;
  /** The JSON schema the grammar enforces, when one is in force. */
  schema?: Record<string, unknown>;
}

export type ParsedGeneration = { ok: true; request: GenerationRequest } | { ok: false; error: ErrorReply };

/** TGI launcher default `--max-stop-sequences` (launcher/src/main.rs, v3.3.4). */
const TGI_MAX_STOP_SEQUENCES = 4;

/** TGI's native `/generate` body (router/src/lib.rs `GenerateRequest` / `GenerateParameters`). */
const generateRequest = z.looseObject({
  inputs: z.string(),
  parameters: z
    .looseObject({
      max_new_tokens: z.int().min(0).nullish(),
      temperature: z.number().nullish(),
      do_sample: z.boolean().nullish(),
      stop: z.array(z.string()).nullish(),
      grammar: z.unknown().optional(),
      details: z.boolean().nullish(),
    })
    .nullish(),
});

const stops = (s: string | string[] | null | undefined): string[] => (s == null ? [] : typeof s === 'string' ? [s] : s);

/**
 * vLLM's `CompletionRequest.max_tokens` defaults to 16 when the field is absent (an explicit null means "the
 * rest of the context"): entrypoints/openai/protocol.py. TGI's completions take the rest of the total.
 */
const VLLM_COMPLETION_DEFAULT_MAX_TOKENS = 16;

function completionMaxTokens(flavour: DoubleFlavour, given: number | null | undefined): number | undefined {
  if (given === undefined && flavour === 'vllm') return VLLM_COMPLETION_DEFAULT_MAX_TOKENS;
  return given ?? undefined;
}

export function parseGenerationRequest(
  flavour: DoubleFlavour,
  endpoint: GenerationEndpoint,
  body: unknown,
  tgiVersion: string,
): ParsedGeneration {
  const invalid = (message: string): ParsedGeneration => ({
    ok: false,
    error: flavour === 'tgi' ? tgiDeserializeError(message) : openAiError(400, message),
  });
  let request: GenerationRequest;
  let format: unknown;
  if (endpoint === 'generate') {
    const parsed = generateRequest.safeParse(body);
    if (!parsed.success) return invalid(describeIssues(parsed.error));
    const p = parsed.data.parameters ?? {};
    // /generate takes temperature as given: 0 is refused (router/src/validation.rs `Temperature`).
    if (p.temperature != null && p.temperature <= 0)
      return { ok: false, error: tgiValidationError('`temperature` must be strictly positive') };
    format = p.grammar;
    request = {
      endpoint,
      model: undefined,
      promptText: parsed.data.inputs,
      stream: false,
      includeUsage: false,
      maxTokens: p.max_new_tokens ?? undefined,
      stop: p.stop ?? [],
      structured: false,
      details: p.details === true,
    };
  } else if (endpoint === 'completion') {
    const parsed = completionRequest.safeParse(body);
    if (!parsed.success) return invalid(describeIssues(parsed.error));
    const r = parsed.data;
    format = r.response_format;
    request = {
      endpoint,
      model: r.model,
      promptText: r.prompt,
      stream: r.stream === true,
      includeUsage: r.stream_options?.include_usage === true,
      maxTokens: completionMaxTokens(flavour, r.max_tokens),
      stop: stops(r.stop),
      structured: false,
      details: false,
    };
  } else {
    const parsed = chatRequest.safeParse(body);
    if (!parsed.success) return invalid(describeIssues(parsed.error));
    const r = parsed.data;
    format = r.response_format;
    request = {
      endpoint,
      model: r.model,
      promptText: chatPromptText(r.messages),
      stream: r.stream === true,
      includeUsage: r.stream_options?.include_usage === true,
      maxTokens: r.max_completion_tokens ?? r.max_tokens ?? undefined,
      stop: stops(r.stop),
      structured: false,
      details: false,
    };
  }
  const verdict = grammarVerdict(flavour, endpoint, format, tgiVersion);
  if (!verdict.ok) return { ok: false, error: verdict.error };
  if (flavour === 'tgi' && request.stop.length > TGI_MAX_STOP_SEQUENCES)
    return {
      ok: false,
      error: tgiValidationError(
        `\`stop\` supports up to ${TGI_MAX_STOP_SEQUENCES} stop sequences. Given: ${request.stop.length}`,
      ),
    };
  return {
    ok: true,
    request: {
      ...request,
      structured: verdict.structured,
      ...(verdict.structured && verdict.schema ? { schema: verdict.schema } : {}),
    },
  };
}
