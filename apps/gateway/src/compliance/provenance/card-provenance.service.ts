import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUDIT_EVENT_VIEW_COLUMNS, type AuditEventView } from '../search/audit-event.view';
import { contextLeftOut, type ContextLeftOut } from './context-left-out';

type Json = Record<string, unknown>;

/** Everything on record about how one card came to be. */
export interface CardProvenance {
  readonly card: Json;
  /** The hook call: hook, service, client, patient, request id, status, timings. */
  readonly hookInvocation: Json;
  /** What the model was asked: model, template version, prompt hash, context manifest (hashes, no content). */
  readonly inferenceRequest: Json | null;
  /** What the backend answered: backend, raw model output, tokens, latency, where the answer came from. */
  readonly inferenceResult: Json | null;
  /** Findings dropped or changed on the way to cards, and why (as recorded by cds-hooks). */
  readonly dropped: unknown;
  /**
   * What the prompt left out of the record and why: per section whether the EHR answered, was not asked or could
   * not be reached, and each resource received but not shown, with its reason (entered in error, duplicate,
   * over budget, ...). Null when the request's manifest predates this record.
   */
  readonly contextLeftOut: ContextLeftOut | null;
  /** The audit trail of the same hook call, oldest first. */
  readonly auditEvents: AuditEventView[];
}

const AUDIT_EVENTS_MAX = 200;

/**
 * Rows are read as jsonb so columns added by later migrations (context manifest, answer detail) show up without
 * this query changing; keys are turned to camelCase.
 */
@Injectable()
export class CardProvenanceReader {
  constructor(private readonly ds: DataSource) {}

  async read(cardUuid: string): Promise<CardProvenance | null> {
    const rows: Array<{
      card: Json;
      invocation: Json;
      request: Json | null;
      result: Json | null;
      hook_instance: string;
    }> = await this.ds.query(
      `SELECT to_jsonb(c) AS card, to_jsonb(h) AS invocation, to_jsonb(r) AS request, to_jsonb(x) AS result,
                h.hook_instance::text AS hook_instance
         FROM cds_cards c
         JOIN hook_invocations h ON h.id = c.hook_invocation_id
         LEFT JOIN inference_requests r ON r.request_id = c.inference_request_id
         LEFT JOIN inference_results x ON x.request_id = c.inference_request_id
         WHERE c.uuid = $1`,
      [cardUuid],
    );
    const row = rows[0];
    if (!row) return null;
    const auditEvents: AuditEventView[] = await this.ds.query(
      `SELECT ${AUDIT_EVENT_VIEW_COLUMNS} FROM audit_events WHERE hook_instance = $1::uuid ORDER BY audit_events.id LIMIT $2`,
      [row.hook_instance, AUDIT_EVENTS_MAX],
    );
    const invocation = camel(row.invocation);
    const request = row.request ? camel(row.request) : null;
    return {
      card: camel(row.card),
      hookInvocation: invocation,
      inferenceRequest: request,
      inferenceResult: row.result ? camel(row.result) : null,
      dropped: invocation['answerDetail'] ?? null,
      contextLeftOut: contextLeftOut(request?.['contextManifest']),
      auditEvents,
    };
  }
}

function camel(o: Json): Json {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]),
  );
}
