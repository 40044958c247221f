import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { REQUEST_ID_HEADER, requestIdFrom } from '@app/observability';
import type { CdsResponse } from '../cards/card';
import { defaultServices } from '../discovery/service-catalog';
import { HookException } from '../errors/hook-exception';
import { HookHandler } from './hook-handler.service';
import { describeIssues, hookRequestSchema } from './hook-request.schema';

@Controller('cds-services')
export class HooksController {
  constructor(
    private readonly handler: HookHandler,
    private readonly audit: AuditWriter,
  ) {}

  @Post(':id')
  @HttpCode(200)
  async invoke(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers(REQUEST_ID_HEADER) requestIdHeader: string | undefined,
    @Headers('traceparent') traceparent: string | undefined,
  ): Promise<CdsResponse> {
    const requestId = requestIdFrom(requestIdHeader);
    const service = defaultServices.find((s) => s.id === id);
    if (!service) {
      await this.audit.record({
        action: 'hook.refused',
        outcome: 'refused',
        service: 'cds-hooks',
        requestId,
        detail: { reason: 'unknown_service' },
      });
      throw new HookException(404, [{ code: 'not-found', diagnostics: 'no CDS service with this id' }]);
    }
    const parsed = hookRequestSchema.safeParse(body);
    const problems = parsed.success ? [] : describeIssues(parsed.error);
    if (parsed.success && parsed.data.hook !== service.hook) {
      problems.push({ expression: 'hook', diagnostics: `service ${service.id} answers the ${service.hook} hook` });
    }
    if (!parsed.success || problems.length > 0) {
      await this.audit.record({
        action: 'hook.refused',
        outcome: 'refused',
        service: 'cds-hooks',
        requestId,
        detail: { serviceId: id, reason: 'invalid_request' },
      });
      throw HookException.badRequest(problems);
    }
    return this.handler.handle(service, parsed.data, { requestId, traceparent });
  }
}
