import { z } from 'zod';
import type { InferenceResultEntity } from '../entities/inference-result.entity';
import { RESULT_COLUMNS } from './result-columns';

/**
 * The reply signal's payload over Postgres NOTIFY: both its ends, the SQL that builds it and the parser that reads it.
 *
 * The result store statement notifies each request id of its batch. A row this statement stored travels whole, as
 * JSON built in SQL from the INSERT's RETURNING (exactly the stored row, never the proxy's in-memory candidate), so
 * the waiter settles without reading it back. A row that was already stored (a redelivery: the first write wins) and
 * a row whose JSON is over RESULT_NOTIFY_MAX_OCTETS travel as the bare id, as an older proxy sends every row; the
 * waiter then reads the row, as before.
 *
 * What travels: the result row, model output text included, which is patient-related data. It is the row already
 * stored in `inference_results`, which all three runtime roles can read. LISTEN itself takes no privilege: any login
 * with CONNECT on this database could hear the channel, so CONNECT is to be kept to those logins. Postgres does not
 * log NOTIFY payloads; the apps never log them either (a payload that does not parse is reported without its text).
 */

/** Postgres refuses a NOTIFY payload of 8000 bytes or more; the JSON is sent only well under that. */
export const RESULT_NOTIFY_MAX_OCTETS = 7_500;

/** SQL: the JSON text of a row of `rel` (an `inference_results` row or RETURNING), keyed by entity field. */
function rowJsonSql(rel: string): string {
  return `json_build_object(${RESULT_COLUMNS.map(([c, f]) => `'${f}', ${rel}.${c}`).join(', ')})::text`;
}

/**
 * SQL: the final SELECT of a result store statement whose CTE `stored` is the INSERT ... RETURNING every column.
 * Notifies `channelParam` once per id of `idsParam` (the batch's request ids, text[]) and returns the stored rows'
 * columns (a conflicting id's are null). NOTIFY is delivered at commit, so nobody hears of a row that is not durable.
 */
export function notifyStoredSql(channelParam: string, idsParam: string): string {
  const columns = RESULT_COLUMNS.map(([c]) => `s.${c}`).join(', ');
  return `SELECT ${columns}, pg_notify(${channelParam},
            CASE WHEN octet_length(s.body) <= ${RESULT_NOTIFY_MAX_OCTETS} THEN s.body ELSE id END)
       FROM unnest(${idsParam}::text[]) AS id
       LEFT JOIN (SELECT stored.*, stored.request_id::text AS sid, ${rowJsonSql('stored')} AS body FROM stored) s
         ON s.sid = id`;
}

const nullableText = z.string().nullable();
const nullableInt = z.number().int().nullable();

/** A carried result, as `json_build_object` writes it (timestamptz as ISO 8601 with an offset). */
const carriedResult = z.object({
  requestId: z.string().min(1),
  outcome: z.enum(['ok', 'error', 'expired']),
  backend: nullableText,
  outputText: nullableText,
  errorCode: nullableText,
  tokensIn: nullableInt,
  tokensOut: nullableInt,
  latencyMs: z.number().int(),
  completedAt: z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
  hookInstance: nullableText,
  model: nullableText,
  templateVersion: nullableText,
  promptHash: nullableText,
  attempts: nullableInt,
  servedFrom: nullableText,
}) satisfies z.ZodType<InferenceResultEntity, unknown>;

/** Just the id of a JSON payload whose row does not parse (a newer outcome, say): the waiter then reads the row. */
const carriedId = z.object({ requestId: z.string().min(1) });

/** The id at the head of `json_build_object`'s text (requestId is its first key), for a payload that is not JSON. */
const LEADING_ID = /^\{\s*"requestId"\s*:\s*"([0-9A-Fa-f-]{36})"/;

/** What a result notification says: the request id, and the stored row when it travelled with it. */
export interface ResultNotification {
  readonly requestId: string;
  readonly result?: InferenceResultEntity;
}

/**
 * Reads a result notification's payload: a bare id (an older proxy, a redelivery, a row over the size limit) or the
 * row's JSON. A payload whose row does not parse gives its id only (the waiter reads the row); one with no readable
 * id gives undefined (the waiter's poll finds the row). Never throws, and never puts the payload in an error.
 */
export function readResultNotification(payload: string): ResultNotification | undefined {
  if (!payload.startsWith('{')) return payload.length > 0 ? { requestId: payload } : undefined;
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    const id = LEADING_ID.exec(payload)?.[1];
    return id === undefined ? undefined : { requestId: id };
  }
  const row = carriedResult.safeParse(json);
  if (row.success) return { requestId: row.data.requestId, result: row.data };
  const id = carriedId.safeParse(json);
  return id.success ? { requestId: id.data.requestId } : undefined;
}
