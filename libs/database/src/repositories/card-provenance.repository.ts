import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

type Json = Record<string, unknown>;

/** The rows behind one card, each as jsonb (snake_case keys). */
export interface CardProvenanceRows {
  readonly card: Json;
  readonly invocation: Json;
  readonly request: Json | null;
  readonly result: Json | null;
  readonly hookInstance: string;
}

/**
 * Rows are read as jsonb so columns added by later migrations (context manifest, answer detail) show up without
 * this query changing.
 */
const READ_SQL = `
  SELECT to_jsonb(c) AS card, to_jsonb(h) AS invocation, to_jsonb(r) AS request, to_jsonb(x) AS result,
         h.hook_instance::text AS "hookInstance"
    FROM cds_cards c
    JOIN hook_invocations h ON h.id = c.hook_invocation_id
    LEFT JOIN inference_requests r ON r.request_id = c.inference_request_id
    LEFT JOIN inference_results x ON x.request_id = c.inference_request_id
   WHERE c.uuid = $1`;

/** A card, its hook call, and the inference request and result it came from (compliance provenance). */
@Injectable()
export class CardProvenanceRepository {
  constructor(private readonly ds: DataSource) {}

  async read(cardUuid: string): Promise<CardProvenanceRows | null> {
    const rows: CardProvenanceRows[] = await this.ds.query(READ_SQL, [cardUuid]);
    return rows[0] ?? null;
  }
}
