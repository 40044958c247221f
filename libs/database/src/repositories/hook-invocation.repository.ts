import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CardSuggestionEntity } from '../entities/card-suggestion.entity';
import { CdsCardEntity } from '../entities/cds-card.entity';
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

/** `hook_invocations` and the cards each call returned (`cds_cards`). */
@Injectable()
export class HookInvocationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stored before anything is sent, so nothing is in flight unrecorded; retried on a cut connection until `untilMs`. */
  async received(row: NewHookInvocation, untilMs: number): Promise<void> {
    await retryTransient(
      () =>
        this.dataSource.getRepository(HookInvocationEntity).insert({
          ...row,
          inferenceRequestId: null,
          status: 'received',
          cardsReturned: null,
          answeredAt: null,
          answerDetail: null,
        }),
      untilMs,
    );
  }

  /** The cards returned, their suggestions and the call's outcome, in one transaction. */
  async answered(a: HookAnswer): Promise<void> {
    await retryTransient(
      () =>
        this.dataSource.transaction(async (tx) => {
          if (a.cards.length > 0) {
            const createdAt = new Date();
            await tx.getRepository(CdsCardEntity).insert(
              a.cards.map((c) => ({
                uuid: c.uuid,
                indicator: c.indicator,
                content: { ...c.content },
                hookInvocationId: a.invocationId,
                inferenceRequestId: a.inferenceRequestId,
                serviceId: a.serviceId,
                createdAt,
              })),
            );
          }
          if (a.suggestions?.length) {
            await tx
              .getRepository(CardSuggestionEntity)
              .insert(a.suggestions.map((s) => ({ ...s, serviceId: a.serviceId, createdAt: new Date() })));
          }
          await tx.getRepository(HookInvocationEntity).update(
            { id: a.invocationId },
            {
              status: a.cards.length > 0 ? 'answered' : 'answered_empty',
              inferenceRequestId: a.inferenceRequestId,
              cardsReturned: a.cards.length,
              answerDetail: { ...a.detail },
              answeredAt: new Date(),
            },
          );
        }),
      Date.now() + ANSWER_WRITE_MS,
    );
  }
}
