import {
  BadRequestException,
  Controller,
  Get,
  NotFoundException,
  Param,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Roles, StaffAuthGuard } from '@app/auth';
import { ComplianceAudit } from '../compliance-audit';
import { EXPORT_CONTENT_TYPE, streamExport } from '../export/audit-export.stream';
import { decodeCursor, encodeCursor, isAuditId } from './audit-cursor';
import { AuditEventSearch } from './audit-event.search';
import type { AuditEventView } from './audit-event.view';
import { filterNames } from './audit-search.filters';
import { parseAuditSearchQuery } from './audit-search.query';

export interface AuditSearchResponse {
  readonly items: AuditEventView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
}

/** Search, read and export of the audit trail, for staff with the `compliance` role. Every call is audited. */
@ApiExcludeController()
@Controller('compliance/audit-events')
@UseGuards(StaffAuthGuard)
@Roles('compliance')
export class AuditEventsController {
  constructor(
    private readonly search: AuditEventSearch,
    private readonly audit: ComplianceAudit,
  ) {}

  @Get()
  async list(@Req() req: Request, @Query() query: Record<string, unknown>): Promise<AuditSearchResponse> {
    const q = parseAuditSearchQuery(query);
    if (q.format) throw new BadRequestException('invalid_filter');
    const page = await this.search.page(q.filters, q.limit, q.cursor ? decodeCursor(q.cursor) : undefined);
    await this.audit.record(req, 'compliance.search', {
      patientRef: q.filters.patient ?? null,
      detail: { filters: filterNames(q.filters), results: page.items.length, paged: q.cursor !== undefined },
    });
    return { items: page.items, nextCursor: page.nextAfterId ? encodeCursor(page.nextAfterId) : null };
  }

  /** Streams every matching row (not one page), newest first, as NDJSON or CSV. */
  @Get('export')
  async export(@Req() req: Request, @Res() res: Response, @Query() query: Record<string, unknown>): Promise<void> {
    const q = parseAuditSearchQuery(query);
    const format = q.format ?? 'ndjson';
    // Audited before the first byte: an export cut short is still on record.
    await this.audit.record(req, 'compliance.export', {
      patientRef: q.filters.patient ?? null,
      detail: { filters: filterNames(q.filters), format },
    });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    res.status(200);
    res.setHeader('content-type', EXPORT_CONTENT_TYPE[format]);
    res.setHeader('content-disposition', `attachment; filename="audit-events-${stamp}.${format}"`);
    res.setHeader('cache-control', 'no-store');
    try {
      await streamExport(this.search.all(q.filters), format, res);
    } catch {
      // Headers are gone: all we can do is cut the stream so the client sees an incomplete file, not a short valid one.
      res.destroy();
    }
  }

  @Get(':id')
  async one(@Req() req: Request, @Param('id') id: string): Promise<AuditEventView> {
    if (!isAuditId(id)) throw new BadRequestException('invalid_id');
    const event = await this.search.byId(id);
    await this.audit.record(req, 'compliance.read', { detail: { eventId: id, found: event !== null } });
    if (!event) throw new NotFoundException();
    return event;
  }
}
