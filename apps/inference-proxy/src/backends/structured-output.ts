import type { BackendKind } from '@app/config';

/**
 * Each backend kind asks for JSON output its own way: vLLM follows OpenAI's
 * `response_format: {type: json_schema, json_schema: {name, schema}}`; TGI wants `{type: json_schema, value: schema}`.
 */
export function responseFormatFor(kind: BackendKind, schema: Record<string, unknown>): Record<string, unknown> {
  return kind === 'tgi'
    ? { type: 'json_schema', value: schema }
    : { type: 'json_schema', json_schema: { name: 'findings', schema, strict: true } };
}
