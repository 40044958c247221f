import { Body, Controller, Headers, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { CLIENT_ID_HEADER } from '@app/clients';
import { REQUEST_ID_HEADER, requestIdFrom } from '@app/observability';
import { KnownServiceGuard, RefusalAudit } from '../discovery/known-service.guard';
import { ZodBodyPipe } from '../errors/zod-body.pipe';
import { feedbackRequestSchema, type FeedbackRequest } from './feedback.schema';
import { FeedbackService } from './feedback.service';

/** `POST /cds-services/{id}/feedback` (CDS Hooks 2.0 §Feedback). Refusals are audited by OperationOutcomeFilter. */
@Controller('cds-services')
@UseGuards(KnownServiceGuard)
@RefusalAudit('feedback.refused')
export class FeedbackController {
  constructor(private readonly feedback: FeedbackService) {}

  @Post(':id/feedback')
  @HttpCode(200)
  async receive(
    @Param('id') id: string,
    @Body(new ZodBodyPipe(feedbackRequestSchema, 'feedback.refused')) request: FeedbackRequest,
    @Headers(REQUEST_ID_HEADER) requestId: string | undefined,
    @Headers(CLIENT_ID_HEADER) clientId: string | undefined,
  ): Promise<Record<string, never>> {
    await this.feedback.receive(id, request, { requestId: requestIdFrom(requestId), clientId });
    return {};
  }
}
