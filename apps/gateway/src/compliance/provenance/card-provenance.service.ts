import { Injectable } from '@nestjs/common';
import { AuditEventRepository, CardProvenanceRepository } from '@app/database';
import type { AuditEventView } from '../search/audit-event.view';
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

/** Keys are turned to camelCase for the API. */
@Injectable()
export class CardProvenanceReader {
  constructor(
    private readonly rows: CardProvenanceRepository,
    private readonly events: AuditEventRepository,
  ) {}

  async read(cardUuid: string): Promise<CardProvenance | null> {
    const row = await this.rows.read(cardUuid);
    if (!row) return null;
    const auditEvents = await this.events.byHookInstance(row.hookInstance, AUDIT_EVENTS_MAX);
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
