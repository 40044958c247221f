import { z } from 'zod';
import type { BackendKind } from '@app/config';
import type { BackendFacts } from '../backends/backend-facts';
import { responseFormatFor } from '../backends/request-shaping';

/** OpenAI's `response_format` shapes, the only ones the facade takes (it speaks OpenAI, whatever the pool). */
const openAiFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({ name: z.string().min(1), schema: z.record(z.string(), z.unknown()) }),
  }),
]);

export type FacadeBody = Record<string, unknown>;
export type BodyFor = (kind: BackendKind, facts: BackendFacts | null) => FacadeBody;
export type FacadePlan = { ok: true; bodyFor: BodyFor } | { ok: false; message: string };

/**
 * Translates the caller's OpenAI `response_format` into what the chosen backend's kind enforces, or refuses
 * what some backend of the pool could not enforce (a silent loss of the schema is worse than a 400):
 * - vLLM takes OpenAI's shapes as they are.
 * - TGI chat takes a schema as `{type: "json_schema", value: {name, schema}}` (3.3+) or `{type: "json", value}`;
 *   it has no schema-less JSON mode (`json_object` needs a schema there) and no `text` variant (dropped: it
 *   asks for nothing).
 * - TGI `/v1/completions` has no `response_format` at all (ignored): refused; use chat, or the Kafka path,
 *   which calls TGI's `/generate` with a grammar.
 */
export function planFacadeBody(path: string, body: FacadeBody, kinds: ReadonlySet<BackendKind>): FacadePlan {
  if (body['response_format'] === undefined || body['response_format'] === null)
    return { ok: true, bodyFor: () => body };
  const parsed = openAiFormat.safeParse(body['response_format']);
  if (!parsed.success)
    return {
      ok: false,
      message: 'response_format must be OpenAI\'s: {"type":"text"|"json_object"|"json_schema", ...}',
    };
  const format = parsed.data;
  const { response_format: _dropped, ...rest } = body;
  if (format.type === 'text') return { ok: true, bodyFor: (kind) => (kind === 'tgi' ? rest : body) };
  if (kinds.has('tgi')) {
    if (path === '/completions')
      return {
        ok: false,
        message:
          'response_format is not enforced on /v1/completions by a TGI backend of this pool (TGI ignores it there); use /v1/chat/completions',
      };
    if (format.type === 'json_object')
      return {
        ok: false,
        message: 'json_object without a schema cannot be enforced by a TGI backend; send json_schema',
      };
  }
  const schema = format.type === 'json_schema' ? format.json_schema.schema : null;
  return {
    ok: true,
    bodyFor: (kind, facts) =>
      kind === 'tgi' && schema !== null ? { ...rest, response_format: responseFormatFor('tgi', schema, facts) } : body,
  };
}
