import { Body, Controller, Headers, HttpCode, Param, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import { CLIENT_ID_HEADER } from '@app/clients';
import { REQUEST_ID_HEADER, requestIdFrom } from '@app/observability';
import type { CdsResponse } from '../cards/card';
import { KnownServiceGuard, RefusalAudit } from '../discovery/known-service.guard';
import { ZodBodyPipe } from '../errors/zod-body.pipe';
import { HookMetricsInterceptor } from '../metrics/hook-metrics.interceptor';
import { HookHandler } from './hook-handler.service';
import { hookRequestSchema, type HookRequest } from './hook-request.schema';

/** `POST /cds-services/{id}` (CDS Hooks 2.0 §HTTP Request). Refusals are audited by OperationOutcomeFilter. */
@Controller('cds-services')
@UseGuards(KnownServiceGuard)
@UseInterceptors(HookMetricsInterceptor)
@RefusalAudit('hook.refused')
export class HooksController {
  constructor(private readonly handler: HookHandler) {}

  @Post(':id')
  @HttpCode(200)
  invoke(
    @Param('id') id: string,
    @Body(new ZodBodyPipe(hookRequestSchema, 'hook.refused')) hook: HookRequest,
    @Headers(REQUEST_ID_HEADER) requestId: string | undefined,
    @Headers('traceparent') traceparent: string | undefined,
    @Headers(CLIENT_ID_HEADER) clientId: string | undefined,
  ): Promise<CdsResponse> {
    return this.handler.handle(id, hook, { requestId: requestIdFrom(requestId), traceparent, clientId });
  }
}
