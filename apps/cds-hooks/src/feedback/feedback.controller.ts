import { randomUUID } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { AuditWriter } from '@app/audit';
import { CLIENT_ID_HEADER } from '@app/clients';
import { CdsCardEntity, FeedbackEntity, type OverrideReason } from '@app/database';
import { REQUEST_ID_HEADER, requestIdFrom } from '@app/observability';
import { ServiceCatalog } from '../discovery/service-catalog';
import { HookException } from '../errors/hook-exception';
import { describeIssues } from '../hooks/hook-request.schema';
import { feedbackRequestSchema, type FeedbackRequest } from './feedback.schema';

/** Feedback on our cards: validated, stored once (a repeat is a no-op), refused for cards we never returned. */
@Controller('cds-services')
export class FeedbackController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalog: ServiceCatalog,
    private readonly audit: AuditWriter,
  ) {}

  @Post(':id/feedback')
  @HttpCode(200)
  async receive(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers(REQUEST_ID_HEADER) requestIdHeader: string | undefined,
    @Headers(CLIENT_ID_HEADER) clientId: string | undefined,
  ): Promise<Record<string, never>> {
    const requestId = requestIdFrom(requestIdHeader);
    const refuse = (reason: string) =>
      this.audit.record({
        action: 'feedback.refused',
        outcome: 'refused',
        service: 'cds-hooks',
        clientId: clientId ?? null,
        requestId,
        detail: { serviceId: id, reason },
      });
    if (!this.catalog.find(id)) {
      await refuse('unknown_service');
      throw new HookException(404, [{ code: 'not-found', diagnostics: 'no CDS service with this id' }]);
    }
    const parsed = feedbackRequestSchema.safeParse(body);
    if (!parsed.success) {
      await refuse('invalid_request');
      throw HookException.badRequest(describeIssues(parsed.error));
    }
    const items = parsed.data.feedback;
    const known = await this.dataSource
      .getRepository(CdsCardEntity)
      .findBy({ uuid: In([...new Set(items.map((f) => f.card))]), serviceId: id });
    const knownIds = new Set(known.map((c) => c.uuid));
    const unknown = items.map((f, i) => ({ f, i })).filter(({ f }) => !knownIds.has(f.card));
    if (unknown.length > 0) {
      await refuse('unknown_card');
      throw new HookException(
        404,
        unknown.map(({ f, i }) => ({
          code: 'not-found' as const,
          diagnostics: `card ${f.card} was not returned by service ${id}`,
          expression: `feedback[${i}].card`,
        })),
      );
    }
    const receivedAt = new Date();
    const duplicates = await this.dataSource.transaction(async (tx) => {
      const seen: boolean[] = [];
      for (const f of items) {
        const inserted = await tx
          .createQueryBuilder()
          .insert()
          .into(FeedbackEntity)
          .values({
            id: randomUUID(),
            serviceId: id,
            cardUuid: f.card,
            outcome: f.outcome,
            acceptedSuggestions: f.acceptedSuggestions?.map((s) => ({ id: s.id })) ?? null,
            overrideReason: f.overrideReason ? overrideReason(f.overrideReason) : null,
            clientId: clientId ?? null,
            outcomeAt: new Date(f.outcomeTimestamp),
            receivedAt,
          })
          .orIgnore()
          .returning(['id'])
          .execute();
        seen.push(Array.isArray(inserted.raw) && inserted.raw.length === 0);
      }
      return seen;
    });
    for (const [i, f] of items.entries()) {
      await this.audit.record({
        action: 'feedback.received',
        outcome: 'success',
        service: 'cds-hooks',
        clientId: clientId ?? null,
        requestId,
        detail: { serviceId: id, card: f.card, feedbackOutcome: f.outcome, duplicate: duplicates[i] ?? false },
      });
    }
    return {};
  }
}

/** Keeps the fields the spec defines; whatever else an EHR adds is not stored. */
function overrideReason(r: NonNullable<FeedbackRequest['feedback'][number]['overrideReason']>): OverrideReason {
  return {
    ...(r.reason
      ? {
          reason: {
            code: r.reason.code,
            ...(r.reason.system ? { system: r.reason.system } : {}),
            ...(r.reason.display ? { display: r.reason.display } : {}),
          },
        }
      : {}),
    ...(r.userComment !== undefined ? { userComment: r.userComment } : {}),
  };
}
