import { z } from 'zod';
import type { ResponseFormatShape } from './types';

/** Request bodies of the OpenAI-compatible endpoints. Unknown fields (top_p, stop, seed, ...) pass. */

const jsonSchemaObject = z.record(z.string(), z.unknown());

/** Shapes recognised for recording only; whether one is accepted, refused or ignored is the flavour's call. */
const recordedFormat = z.union([
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object'), value: jsonSchemaObject.optional() }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({ name: z.string(), schema: jsonSchemaObject.optional() }),
  }),
  z.looseObject({ type: z.literal('json_schema'), value: jsonSchemaObject }),
  z.looseObject({ type: z.literal('json'), value: jsonSchemaObject }),
]);
type RecordedFormat = z.infer<typeof recordedFormat>;

const streamOptions = z.looseObject({ include_usage: z.boolean().nullish() });

const common = {
  model: z.string().min(1).optional(),
  max_tokens: z.int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  stream: z.boolean().nullish(),
  stream_options: streamOptions.nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  response_format: z.unknown().optional(),
};

export const completionRequest = z.looseObject({ ...common, prompt: z.string() });
export type CompletionRequest = z.infer<typeof completionRequest>;

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const chatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPart), z.null()]),
});
export type ChatMessage = z.infer<typeof chatMessage>;

export const chatRequest = z.looseObject({
  ...common,
  max_completion_tokens: z.int().positive().nullish(),
  messages: z.array(chatMessage).min(1),
});
export type ChatRequest = z.infer<typeof chatRequest>;

/** Which request shape asked for structured output (recorded for assertions). */
function responseFormatShape(format: RecordedFormat | null | undefined): ResponseFormatShape {
  if (!format) return 'none';
  switch (format.type) {
    case 'text':
      return 'text';
    case 'json_object':
      return 'json_object';
    case 'json':
      return 'tgi_json';
    case 'json_schema':
      return 'json_schema' in format ? 'openai_json_schema' : 'tgi_json_schema';
  }
}

/** Best-effort shape of a body that may not validate (for recording only). */
export function recordedShape(body: unknown): ResponseFormatShape {
  if (typeof body !== 'object' || body === null) return 'none';
  const format = 'response_format' in body ? body.response_format : undefined;
  if (format === undefined || format === null) return 'none';
  const parsed = recordedFormat.safeParse(format);
  return parsed.success ? responseFormatShape(parsed.data) : 'other';
}

/**
 * The chat prompt text the default answer's digest is taken over: each message's content in order
 * joined with '\n' (an array content contributes its text parts, joined with '\n').
 */
export function chatPromptText(messages: readonly ChatMessage[]): string {
  return messages
    .map((m) => {
      if (m.content === null) return '';
      if (typeof m.content === 'string') return m.content;
      return m.content.map((part) => part.text ?? '').join('\n');
    })
    .join('\n');
}

/** Readable one-line summary of a zod failure, for 400 bodies. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
}
