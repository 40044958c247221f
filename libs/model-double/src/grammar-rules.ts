import { z } from 'zod';
import { openAiError, tgiDeserializeError, tgiValidationError, type ErrorReply } from './errors';
import type { DoubleFlavour } from './types';

/** Which endpoint a generation came to: OpenAI completions or chat, or TGI's native /generate. */
export type GenerationEndpoint = 'completion' | 'chat' | 'generate';

/** `schema`: the JSON schema the grammar enforces, when it is one (the default answer fills its choices). */
export type GrammarVerdict =
  { ok: true; structured: boolean; schema?: Record<string, unknown> } | { ok: false; error: ErrorReply };

const schemaObject = z.record(z.string(), z.unknown());

/** vLLM `ResponseFormat` (entrypoints/openai/protocol.py): `type` is a closed Literal; the schema under `json_schema`. */
const vllmFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({ name: z.string(), schema: schemaObject.nullish() }).nullish(),
  }),
  z.looseObject({ type: z.literal('structural_tag') }),
]);

/**
 * What the flavour makes of a request's structured-output field, on this endpoint. See CONFORMANCE.md for
 * the upstream source of each rule.
 */
export function grammarVerdict(
  flavour: DoubleFlavour,
  endpoint: GenerationEndpoint,
  format: unknown,
  tgiVersion: string,
): GrammarVerdict {
  if (format === undefined || format === null) return { ok: true, structured: false };
  if (flavour === 'vllm') return vllmVerdict(format);
  // TGI's CompletionRequest has no response_format and does not deny unknown fields: silently ignored.
  if (endpoint === 'completion') return { ok: true, structured: false };
  return tgiGrammarVerdict(format, tgiVersion, endpoint === 'generate' ? 'parameters.grammar' : 'response_format');
}

function vllmVerdict(format: unknown): GrammarVerdict {
  const parsed = vllmFormat.safeParse(format);
  if (!parsed.success)
    return {
      ok: false,
      error: openAiError(
        400,
        "response_format.type: Input should be 'text', 'json_object', 'json_schema' or 'structural_tag'",
        'response_format',
      ),
    };
  const f = parsed.data;
  if (f.type === 'text') return { ok: true, structured: false };
  if (f.type === 'json_schema' && !f.json_schema?.schema)
    return {
      ok: false,
      error: openAiError(
        400,
        'response_format.json_schema with a schema is required for type json_schema',
        'response_format',
      ),
    };
  return f.type === 'json_schema' && f.json_schema?.schema
    ? { ok: true, structured: true, schema: f.json_schema.schema }
    : { ok: true, structured: true };
}

function tgiTakesJsonSchema(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m !== null && (Number(m[1]) > 3 || (Number(m[1]) === 3 && Number(m[2]) >= 3));
}

/**
 * TGI `GrammarType` (router/src/lib.rs): adjacently tagged `{type, value}`; `json` (alias `json_object`) with a
 * schema, `regex`, and from 3.3 `json_schema` with `value: {name?, schema}`. A body that does not deserialize is
 * axum's 422; a schema without top-level `properties` is TGI's own 422 (router/src/validation.rs).
 */
function tgiGrammarVerdict(format: unknown, version: string, field: string): GrammarVerdict {
  const bad = (why: string): GrammarVerdict => ({ ok: false, error: tgiDeserializeError(`${field}: ${why}`) });
  if (typeof format !== 'object' || format === null || !('type' in format)) return bad('missing field `type`');
  const type = format.type;
  const variants = tgiTakesJsonSchema(version) ? '`json`, `regex`, `json_schema`' : '`json`, `regex`';
  if (
    type !== 'json' &&
    type !== 'json_object' &&
    type !== 'regex' &&
    !(type === 'json_schema' && tgiTakesJsonSchema(version))
  )
    return bad(`unknown variant \`${String(type)}\`, expected one of ${variants}`);
  if (!('value' in format)) return bad('missing field `value`');
  const value = format.value;
  if (type === 'regex')
    return typeof value === 'string' ? { ok: true, structured: true } : bad('invalid type, expected a string');
  let schema: unknown = value;
  if (type === 'json_schema') {
    const config = z.looseObject({ name: z.string().nullish(), schema: z.unknown() }).safeParse(value);
    if (!config.success || config.data.schema === undefined) return bad('missing field `schema`');
    schema = config.data.schema;
  } else if (typeof value === 'string') {
    try {
      schema = JSON.parse(value);
    } catch {
      return { ok: false, error: tgiValidationError('Grammar is not valid JSON') };
    }
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    return { ok: false, error: tgiValidationError('grammar is not supported') };
  if (!('properties' in schema))
    return { ok: false, error: tgiValidationError("Invalid grammar: Grammar must have a 'properties' field") };
  return { ok: true, structured: true, schema: schema as Record<string, unknown> };
}
