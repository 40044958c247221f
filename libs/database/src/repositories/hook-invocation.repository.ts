import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { hotQuery } from '../statements/hot-query';
import { HookInvocationEntity } from '../entities/hook-invocation.entity';
import { retryTransient } from '../transient-retry';
import type { JsonDetail } from './json-detail';

export type NewHookInvocation = Pick<
  HookInvocationEntity,
  'id' | 'hookInstance' | 'hook' | 'serviceId' | 'requestId' | 'clientId' | 'patientRef' | 'receivedAt'
>;

export interface HookAnswer {
  readonly invocationId: string;
  readonly inferenceRequestId: string;
  readonly serviceId: string;
  /** The cards as the EHR received them (content kept for the compliance explanation). */
  readonly cards: ReadonlyArray<StoredCard>;
  /** The suggestions those cards carry (kind and configured code only). */
  readonly suggestions?: ReadonlyArray<{ uuid: string; cardUuid: string; kind: string; code: string | null }>;
  readonly detail: JsonDetail;
}

/** A returned card: its uuid, indicator, and the card JSON as sent. */
export interface StoredCard {
  readonly uuid: string;
  readonly indicator: string;
  readonly content: JsonDetail;
}

/** How long storing an answer may ride out a cut connection once the cards are composed. */
const ANSWER_WRITE_MS = 2000;

/**
 * Named SQL: the call's row ($1-$8) on its own (the hook path stores it in `hook_start`, see
 * InferenceOutboxRepository.start). The id is new per call, so a conflict is only this call's own write retried after
 * a commit whose answer was lost.
 */
const INVOCATION_INSERT = `INSERT INTO hook_invocations
    (id, hook_instance, hook, service_id, request_id, client_id, patient_ref, received_at, status)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received') ON CONFLICT (id) DO NOTHING`;

/**
 * Named SQL: the cards, their suggestions and the call's outcome in one statement (so one round trip and atomic
 * without a transaction; the foreign keys are checked at its end, when the cards are in).
 */
export const ANSWERED_SQL = `
  WITH cards AS (
    INSERT INTO cds_cards (uuid, hook_invocation_id, inference_request_id, service_id, indicator, content, created_at)
    SELECT c.uuid, $1, $2, $3, c.indicator, c.content, $5
      FROM jsonb_to_recordset($6::jsonb) AS c(uuid uuid, indicator text, content jsonb)
  ), suggestions AS (
    INSERT INTO cds_card_suggestions (uuid, card_uuid, service_id, kind, code, created_at)
    SELECT s.uuid, s."cardUuid", $3, s.kind, s.code, $5
      FROM jsonb_to_recordset($7::jsonb) AS s(uuid uuid, "cardUuid" uuid, kind text, code text)
  )
  UPDATE hook_invocations
     SET status = $4, inference_request_id = $2, cards_returned = $8, answer_detail = $9::jsonb, answered_at = $5
   WHERE id = $1`;

/** `hook_invocations` and the cards each call returned (`cds_cards`, `cds_card_suggestions`). */
@Injectable()
export class HookInvocationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stored before anything is sent, so nothing is in flight unrecorded; retried on a cut connection until `untilMs`. */
  async received(row: NewHookInvocation, untilMs: number): Promise<void> {
    await retryTransient(() => this.dataSource.query(INVOCATION_INSERT, invocationParams(row)), untilMs);
  }

  /** The cards returned, their suggestions and the call's outcome, in one statement. */
  async answered(a: HookAnswer): Promise<void> {
    const at = new Date();
    const cards = a.cards.map((c) => ({ uuid: c.uuid, indicator: c.indicator, content: c.content }));
    await retryTransient(
      () =>
        hotQuery(this.dataSource, ANSWERED_SQL, [
          a.invocationId,
          a.inferenceRequestId,
          a.serviceId,
          a.cards.length > 0 ? 'answered' : 'answered_empty',
          at,
          JSON.stringify(cards),
          JSON.stringify(a.suggestions ?? []),
          a.cards.length,
          JSON.stringify(a.detail),
        ]),
      Date.now() + ANSWER_WRITE_MS,
    );
  }
}

function invocationParams(row: NewHookInvocation): unknown[] {
  return [
    row.id,
    row.hookInstance,
    row.hook,
    row.serviceId,
    row.requestId,
    row.clientId,
    row.patientRef,
    row.receivedAt,
  ];
}
