import {
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Put,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuditWriter } from '@app/audit';
import { RefusedException, Roles, StaffAuthGuard, staffOf } from '@app/auth';
import { ClientRegistryCache, summariseClient, type EhrClientSummary } from '@app/clients';
import { REQUEST_ID_HEADER } from '@app/observability';
import { STAFF_OIDC } from '../docs/openapi';
import { AdminClientWriter } from './admin-client.writer';
import { EhrClientListDto, EhrClientSummaryDto } from './ehr-client-summary.dto';

/** Admin view of the EHR client registry, and registration changes (the `ehr_clients` table). Every call is audited. */
@ApiTags('Admin')
@ApiBearerAuth(STAFF_OIDC)
@Controller('admin')
@UseGuards(StaffAuthGuard)
export class AdminClientsController {
  constructor(
    private readonly clients: ClientRegistryCache,
    private readonly writer: AdminClientWriter,
    private readonly audit: AuditWriter,
  ) {}

  @Get('clients')
  @Roles('admin')
  @ApiOperation({ summary: 'Registered EHR clients: ids, issuers, key ids, services, FHIR base URLs, rate limits' })
  @ApiOkResponse({ type: EhrClientListDto })
  @ApiResponse({ status: 401, description: 'missing or invalid staff token' })
  @ApiResponse({ status: 403, description: 'staff token without the admin role' })
  async list(@Req() req: Request): Promise<EhrClientListDto> {
    await this.record(req, 'admin.clients.listed', {});
    return { clients: this.clients.current().clients.map(summariseClient) };
  }

  @Put('clients/:id')
  @Roles('admin')
  @ApiOperation({
    summary: 'Register an EHR client, or replace the one with this id (JSON body: the client definition)',
  })
  @ApiOkResponse({ type: EhrClientSummaryDto })
  @ApiResponse({ status: 400, description: 'not a valid client definition, or private key material in its keys' })
  async put(@Req() req: Request, @Param('id') id: string): Promise<EhrClientSummary> {
    const actor = staffOf(req).subject;
    const parsed = await this.writer.parse(req, id);
    if (!parsed.ok) {
      throw new RefusedException({ reason: parsed.reason, actor }, HttpStatus.BAD_REQUEST, parsed.reason);
    }
    await this.writer.upsert(parsed.client);
    await this.record(req, 'admin.clients.registered', { client: id, issuer: parsed.client.issuer });
    await this.clients.reload();
    return summariseClient(parsed.client);
  }

  @Delete('clients/:id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a registered EHR client' })
  @ApiResponse({ status: 404, description: 'no client with this id in the ehr_clients table' })
  async remove(@Req() req: Request, @Param('id') id: string): Promise<void> {
    const removed = await this.writer.remove(id);
    await this.record(req, 'admin.clients.removed', { client: id, found: removed });
    if (!removed) throw new NotFoundException();
    await this.clients.reload();
  }

  private record(req: Request, action: string, detail: Record<string, string | boolean>): Promise<void> {
    return this.audit.record({
      action,
      outcome: 'success',
      service: 'gateway',
      actor: staffOf(req).subject,
      requestId: req.res?.getHeader(REQUEST_ID_HEADER)?.toString() ?? null,
      detail,
    });
  }
}
