import type { BackendKind } from '@app/config';
import type { BackendFacts } from './backend-facts';
import { tgiTakesJsonSchema } from './backend-facts';

/** What one generation asks of a backend, whatever path it came by (Kafka or the facade). */
export interface Generation {
  readonly model: string;
  readonly api: 'completion' | 'chat';
  readonly prompt?: string;
  readonly messages?: ReadonlyArray<{ role: string; content: string }>;
  readonly maxTokens: number;
  readonly temperature: number;
  readonly outputSchema: Record<string, unknown> | null;
  readonly stop: ReadonlyArray<string>;
}

/** How to read the answer: OpenAI's completion or chat shape, or TGI's native `/generate`. */
export type AnswerShape = 'openai-completion' | 'openai-chat' | 'tgi-generate';

export interface ShapedCall {
  /** Relative to the backend root (`/v1/...` or `/generate`). */
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly answer: AnswerShape;
}

const SCHEMA_NAME = 'findings';

/**
 * The request the backend kind really enforces the schema on:
 * - vLLM: OpenAI `response_format: {type: "json_schema", json_schema: {name, schema}}` on both endpoints
 *   (vllm/entrypoints/openai/protocol.py, 0.10-0.13).
 * - TGI chat: `{type: "json_schema", value: {name, schema}}` from 3.3, else `{type: "json", value: schema}`
 *   (router/src/lib.rs `GrammarType`, v3.3.4 and HEAD).
 * - TGI completions: its `/v1/completions` has no `response_format` (the field would be silently dropped),
 *   so a structured completion goes to the native `/generate` with `parameters.grammar` (router/src/lib.rs
 *   `GenerateParameters`). `/generate` refuses `temperature: 0`, so greedy decoding is `do_sample: false`.
 */
export function shapeRequest(kind: BackendKind, g: Generation, facts: BackendFacts | null): ShapedCall {
  const stop = g.stop.length > 0 ? { stop: [...g.stop] } : {};
  if (kind === 'tgi' && g.api === 'completion' && g.outputSchema) {
    return {
      path: '/generate',
      answer: 'tgi-generate',
      body: {
        inputs: g.prompt ?? '',
        parameters: {
          max_new_tokens: g.maxTokens,
          ...(g.temperature > 0 ? { temperature: g.temperature, do_sample: true } : { do_sample: false }),
          ...stop,
          grammar: { type: 'json', value: g.outputSchema },
          details: true,
        },
      },
    };
  }
  const responseFormat = g.outputSchema ? { response_format: responseFormatFor(kind, g.outputSchema, facts) } : {};
  const common = {
    model: g.model,
    max_tokens: g.maxTokens,
    temperature: g.temperature,
    stream: false,
    ...stop,
    ...responseFormat,
  };
  return g.api === 'completion'
    ? { path: '/v1/completions', answer: 'openai-completion', body: { ...common, prompt: g.prompt ?? '' } }
    : { path: '/v1/chat/completions', answer: 'openai-chat', body: { ...common, messages: g.messages ?? [] } };
}

/** `response_format` for the OpenAI-compatible endpoints of each kind (TGI: chat only; see above). */
export function responseFormatFor(
  kind: BackendKind,
  schema: Record<string, unknown>,
  facts: BackendFacts | null,
): Record<string, unknown> {
  if (kind === 'vllm') return { type: 'json_schema', json_schema: { name: SCHEMA_NAME, schema, strict: true } };
  return tgiTakesJsonSchema(facts?.version ?? null)
    ? { type: 'json_schema', value: { name: SCHEMA_NAME, schema } }
    : { type: 'json', value: schema };
}

/**
 * TGI leaves the matched stop sequence at the end of the text (its StopSequenceCriteria matches the
 * decoded output); vLLM leaves it out. Either way the answer is the text before it.
 */
export function withoutTrailingStop(text: string, stop: ReadonlyArray<string>): string {
  for (const s of stop) if (text.endsWith(s)) return text.slice(0, -s.length);
  return text;
}
