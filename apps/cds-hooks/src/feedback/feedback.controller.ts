import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import type { InternalCall } from '@app/auth';
import { InternalAuthGuard } from '../auth/internal-auth.guard';
import { InternalCaller } from '../auth/internal-caller';
import { KnownServiceGuard, RefusalAudit } from '../discovery/known-service.guard';
import { ZodBodyPipe } from '../errors/zod-body.pipe';
import { feedbackRequestSchema, type FeedbackRequest } from './feedback.schema';
import { FeedbackService } from './feedback.service';

/** `POST /cds-services/{id}/feedback` (CDS Hooks 2.0 §Feedback). Refusals are audited by OperationOutcomeFilter. */
@Controller('cds-services')
@UseGuards(InternalAuthGuard, KnownServiceGuard)
@RefusalAudit('feedback.refused')
export class FeedbackController {
  constructor(private readonly feedback: FeedbackService) {}

  @Post(':id/feedback')
  @HttpCode(200)
  async receive(
    @Param('id') id: string,
    @Body(new ZodBodyPipe(feedbackRequestSchema, 'feedback.refused')) request: FeedbackRequest,
    @InternalCaller() caller: InternalCall,
  ): Promise<Record<string, never>> {
    await this.feedback.receive(id, request, { requestId: caller.requestId, clientId: caller.clientId });
    return {};
  }
}
