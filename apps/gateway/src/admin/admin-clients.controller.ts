import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuditWriter } from '@app/audit';
import { Roles, StaffAuthGuard, staffOf } from '@app/auth';
import { ClientRegistryCache, summariseClient } from '@app/clients';
import { REQUEST_ID_HEADER } from '@app/observability';
import { STAFF_OIDC } from '../docs/openapi';
import { EhrClientListDto } from './ehr-client-summary.dto';

/** Admin view of the EHR client registry. */
@ApiTags('Admin')
@ApiBearerAuth(STAFF_OIDC)
@Controller('admin')
@UseGuards(StaffAuthGuard)
export class AdminClientsController {
  constructor(
    private readonly clients: ClientRegistryCache,
    private readonly audit: AuditWriter,
  ) {}

  @Get('clients')
  @Roles('admin')
  @ApiOperation({ summary: 'Registered EHR clients: ids, issuers, tenants, services, FHIR base URLs (no keys)' })
  @ApiOkResponse({ type: EhrClientListDto })
  @ApiResponse({ status: 401, description: 'missing or invalid staff token' })
  @ApiResponse({ status: 403, description: 'staff token without the admin role' })
  async list(@Req() req: Request): Promise<EhrClientListDto> {
    await this.audit.record({
      action: 'admin.clients.listed',
      outcome: 'success',
      service: 'gateway',
      actor: staffOf(req).subject,
      requestId: req.res?.getHeader(REQUEST_ID_HEADER)?.toString() ?? null,
    });
    return { clients: this.clients.current().clients.map(summariseClient) };
  }
}
