import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { CLIENT_ID_HEADER } from '@app/clients';
import { REQUEST_ID_HEADER, requestIdFrom } from '@app/observability';
import type { CdsResponse } from '../cards/card';
import { ServiceCatalog } from '../discovery/service-catalog';
import { HookException } from '../errors/hook-exception';
import { hookContextSchemas } from './hook-contexts';
import { HookHandler } from './hook-handler.service';
import { describeIssues, hookRequestSchema } from './hook-request.schema';

@Controller('cds-services')
export class HooksController {
  constructor(
    private readonly catalog: ServiceCatalog,
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
    @Headers(CLIENT_ID_HEADER) clientId: string | undefined,
  ): Promise<CdsResponse> {
    const requestId = requestIdFrom(requestIdHeader);
    const refuse = async (reason: string, serviceId: string | null) =>
      this.audit.record({
        action: 'hook.refused',
        outcome: 'refused',
        service: 'cds-hooks',
        clientId: clientId ?? null,
        requestId,
        detail: { serviceId, reason },
      });
    const service = this.catalog.find(id);
    if (!service) {
      await refuse('unknown_service', null);
      throw new HookException(404, [{ code: 'not-found', diagnostics: 'no CDS service with this id' }]);
    }
    const parsed = hookRequestSchema.safeParse(body);
    if (!parsed.success) {
      await refuse('invalid_request', service.id);
      throw HookException.badRequest(describeIssues(parsed.error));
    }
    if (parsed.data.hook !== service.hook) {
      await refuse('wrong_hook', service.id);
      throw HookException.badRequest([
        { expression: 'hook', diagnostics: `service ${service.id} answers the ${service.hook} hook` },
      ]);
    }
    const context = hookContextSchemas[service.hook].safeParse(parsed.data.context);
    if (!context.success) {
      await refuse('invalid_context', service.id);
      throw HookException.badRequest(describeIssues(context.error, 'context'));
    }
    return this.handler.handle(service, parsed.data, context.data, { requestId, traceparent, clientId });
  }
}
