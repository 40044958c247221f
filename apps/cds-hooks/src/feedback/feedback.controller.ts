import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { CLIENT_ID_HEADER } from '@app/clients';
import { REQUEST_ID_HEADER, requestIdFrom } from '@app/observability';
import { ServiceCatalog } from '../discovery/service-catalog';
import { HookException } from '../errors/hook-exception';
import { describeIssues } from '../hooks/hook-request.schema';
import { feedbackRequestSchema } from './feedback.schema';
import { FeedbackService } from './feedback.service';

/** `POST /cds-services/{id}/feedback` (CDS Hooks 2.0 §Feedback). */
@Controller('cds-services')
export class FeedbackController {
  constructor(
    private readonly catalog: ServiceCatalog,
    private readonly feedback: FeedbackService,
  ) {}

  @Post(':id/feedback')
  @HttpCode(200)
  async receive(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers(REQUEST_ID_HEADER) requestIdHeader: string | undefined,
    @Headers(CLIENT_ID_HEADER) clientId: string | undefined,
  ): Promise<Record<string, never>> {
    const meta = { requestId: requestIdFrom(requestIdHeader), clientId };
    if (!this.catalog.find(id)) {
      await this.feedback.refuse(id, 'unknown_service', meta);
      throw new HookException(404, [{ code: 'not-found', diagnostics: 'no CDS service with this id' }]);
    }
    const parsed = feedbackRequestSchema.safeParse(body);
    if (!parsed.success) {
      await this.feedback.refuse(id, 'invalid_request', meta);
      throw HookException.badRequest(describeIssues(parsed.error));
    }
    await this.feedback.receive(id, parsed.data, meta);
    return {};
  }
}
