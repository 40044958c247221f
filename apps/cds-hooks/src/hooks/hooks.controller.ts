import { Body, Controller, Headers, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import type { InternalCall } from '@app/auth';
import { InternalAuthGuard } from '../auth/internal-auth.guard';
import { InternalCaller } from '../auth/internal-caller';
import type { CdsResponse } from '../cards/card';
import { KnownServiceGuard, RefusalAudit } from '../discovery/known-service.guard';
import { ZodBodyPipe } from '../errors/zod-body.pipe';
import { LoadShedding } from '../load-shedding/load-shedding.service';
import { HookTiming } from '../metrics/hook-timing.service';
import { HookHandler } from './hook-handler.service';
import { hookRequestSchema, type HookRequest } from './hook-request.schema';

/**
 * `POST /cds-services/{id}` (CDS Hooks 2.0 §HTTP Request). Refusals are audited by OperationOutcomeFilter.
 *
 * Timing, load shedding and body validation run inside the handler method, in that order (as interceptors and a
 * body pipe did before), not as Nest interceptors. With any interceptor on a route, @nestjs/core 11 wraps each
 * step of every call in `AsyncResource.bind()`, whose deprecated `asyncResource` accessors (Node 20 and 24) keep
 * the call's whole object graph, parsed hook body included, alive through every young-generation collection until
 * the next full one. Measured at 50 cache-hit hooks/s in one process (bench/results-issue-17-gc.md): each
 * scavenge promoted 4.1 MB and paused 14–19 ms (median) with the two interceptors, 0.5 MB and 5–6 ms without.
 * @nestjs/core 12 binds without those accessors; on it these can become interceptors again.
 */
@Controller('cds-services')
@UseGuards(InternalAuthGuard, KnownServiceGuard)
@RefusalAudit('hook.refused')
export class HooksController {
  private readonly validate = new ZodBodyPipe(hookRequestSchema, 'hook.refused');

  constructor(
    private readonly handler: HookHandler,
    private readonly timing: HookTiming,
    private readonly shedding: LoadShedding,
  ) {}

  @Post(':id')
  @HttpCode(200)
  invoke(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('traceparent') traceparent: string | undefined,
    @InternalCaller() caller: InternalCall,
    @Req() req: Request,
  ): Promise<CdsResponse> {
    return this.timing.time(id, () =>
      this.shedding.serve(req, async (delivery) => {
        const hook: HookRequest = this.validate.transform(body);
        // Who called and which request this is come from the gateway's verified token only.
        const meta = { requestId: caller.requestId, traceparent, clientId: caller.clientId, delivery };
        return this.handler.handle(id, hook, meta);
      }),
    );
  }
}
