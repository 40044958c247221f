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
import { csvLine } from '../export/csv';
import { DASHBOARD_PANELS, dashboardQuerySchema, type DashboardPanel, type DashboardQuery } from './dashboard.query';
import { GovernanceDashboard, type Dashboard } from './dashboard.service';

/** The governance dashboard for the `compliance` role: figures as JSON, each panel as CSV. Every view is audited. */
@ApiExcludeController()
@Controller('compliance/dashboard')
@UseGuards(StaffAuthGuard)
@Roles('compliance')
export class DashboardController {
  constructor(
    private readonly dashboard: GovernanceDashboard,
    private readonly audit: ComplianceAudit,
  ) {}

  @Get()
  async show(@Req() req: Request, @Query() query: Record<string, unknown>): Promise<Dashboard> {
    const q = parse(query);
    await this.audit.record(req, 'compliance.dashboard', { detail: detailOf(q) });
    return this.dashboard.read(q);
  }

  /** `GET /compliance/dashboard/<panel>.csv`: the numbers behind one chart. */
  @Get(':file')
  async csv(
    @Req() req: Request,
    @Res() res: Response,
    @Param('file') file: string,
    @Query() query: Record<string, unknown>,
  ): Promise<void> {
    const panel = /^([a-z-]+)\.csv$/.exec(file)?.[1];
    if (!panel || !(DASHBOARD_PANELS as ReadonlyArray<string>).includes(panel)) throw new NotFoundException();
    const q = parse(query);
    await this.audit.record(req, 'compliance.dashboard.export', { detail: { ...detailOf(q), panel } });
    const table = (await this.dashboard.read(q)).panels[panel as DashboardPanel];
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="dashboard-${panel}.csv"`);
    res.setHeader('cache-control', 'no-store');
    res.send(csvLine(table.columns) + table.rows.map((r) => csvLine(r)).join(''));
  }
}

function parse(query: Record<string, unknown>): DashboardQuery {
  const parsed = dashboardQuerySchema.safeParse(query);
  if (!parsed.success) throw new BadRequestException('invalid_query');
  return parsed.data;
}

function detailOf(q: DashboardQuery): Record<string, string> {
  return { from: q.from.toISOString(), to: q.to.toISOString(), ...(q.service ? { service: q.service } : {}) };
}
