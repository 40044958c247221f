import {
  BadRequestException,
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Param,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import type { AuditEvent, Bundle } from 'fhir/r4';
import { Roles, StaffAuthGuard } from '@app/auth';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../gateway.config';
import { ComplianceAudit } from '../compliance-audit';
import { decodeCursor, encodeCursor, isAuditId } from '../search/audit-cursor';
import { AuditEventSearch } from '../search/audit-event.search';
import { filterNames } from '../search/audit-search.filters';
import { toFhirAuditEvent } from './audit-event.fhir';
import { parseFhirAuditSearch } from './fhir-audit-search.params';

/** FHIR R4 AuditEvent read and search over the audit trail (searchset Bundles, `next` links by opaque cursor). */
@ApiExcludeController()
@Controller('fhir/AuditEvent')
@UseGuards(StaffAuthGuard)
@Roles('compliance')
export class FhirAuditEventController {
  constructor(
    private readonly search: AuditEventSearch,
    private readonly audit: ComplianceAudit,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get()
  @Header('content-type', 'application/fhir+json; charset=utf-8')
  async searchset(@Req() req: Request, @Query() query: Record<string, unknown>): Promise<Bundle<AuditEvent>> {
    const q = parseFhirAuditSearch(query);
    const page = await this.search.page(q.filters, q.count, q.cursor ? decodeCursor(q.cursor) : undefined);
    await this.audit.record(req, 'compliance.search', {
      patientRef: q.filters.patient ?? null,
      detail: { api: 'fhir', filters: filterNames(q.filters), results: page.items.length },
    });
    const base = `${this.config.PUBLIC_BASE_URL.replace(/\/$/, '')}/fhir/AuditEvent`;
    const self = new URL(base);
    for (const [k, v] of Object.entries(query)) {
      for (const value of Array.isArray(v) ? v : [v]) if (typeof value === 'string') self.searchParams.append(k, value);
    }
    const link: NonNullable<Bundle['link']> = [{ relation: 'self', url: self.toString() }];
    if (page.nextAfterId) {
      const next = new URL(self);
      next.searchParams.set('_cursor', encodeCursor(page.nextAfterId));
      link.push({ relation: 'next', url: next.toString() });
    }
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      link,
      entry: page.items.map((e) => ({
        fullUrl: `${base}/${e.id}`,
        resource: toFhirAuditEvent(e),
        search: { mode: 'match' },
      })),
    };
  }

  @Get(':id')
  @Header('content-type', 'application/fhir+json; charset=utf-8')
  async read(@Req() req: Request, @Param('id') id: string): Promise<AuditEvent> {
    if (!isAuditId(id)) throw new BadRequestException('invalid_id');
    const event = await this.search.byId(id);
    await this.audit.record(req, 'compliance.read', { detail: { api: 'fhir', eventId: id, found: event !== null } });
    if (!event) throw new NotFoundException();
    return toFhirAuditEvent(event);
  }
}
