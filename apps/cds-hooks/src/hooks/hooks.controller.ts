import { Body, Controller, Headers, HttpCode, Param, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import type { InternalCall } from '@app/auth';
import { InternalAuthGuard } from '../auth/internal-auth.guard';
import { InternalCaller } from '../auth/internal-caller';
import type { CdsResponse } from '../cards/card';
import { KnownServiceGuard, RefusalAudit } from '../discovery/known-service.guard';
import { ZodBodyPipe } from '../errors/zod-body.pipe';
import { Delivery, type HookDelivery } from '../load-shedding/hook-delivery';
import { LoadSheddingInterceptor } from '../load-shedding/load-shedding.interceptor';
import { HookMetricsInterceptor } from '../metrics/hook-metrics.interceptor';
import { HookHandler } from './hook-handler.service';
import { hookRequestSchema, type HookRequest } from './hook-request.schema';

/** `POST /cds-services/{id}` (CDS Hooks 2.0 §HTTP Request). Refusals are audited by OperationOutcomeFilter. */
@Controller('cds-services')
@UseGuards(InternalAuthGuard, KnownServiceGuard)
@UseInterceptors(HookMetricsInterceptor, LoadSheddingInterceptor)
@RefusalAudit('hook.refused')
export class HooksController {
  constructor(private readonly handler: HookHandler) {}

  @Post(':id')
  @HttpCode(200)
  invoke(
    @Param('id') id: string,
    @Body(new ZodBodyPipe(hookRequestSchema, 'hook.refused')) hook: HookRequest,
    @Headers('traceparent') traceparent: string | undefined,
    @InternalCaller() caller: InternalCall,
    @Delivery() delivery: HookDelivery | undefined,
  ): Promise<CdsResponse> {
    // Who called and which request this is come from the gateway's verified token only.
    const meta = { requestId: caller.requestId, traceparent, clientId: caller.clientId, delivery };
    return this.handler.handle(id, hook, meta);
  }
}
