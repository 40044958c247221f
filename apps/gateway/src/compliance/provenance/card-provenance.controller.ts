import { BadRequestException, Controller, Get, NotFoundException, Param, Req, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { Roles, StaffAuthGuard } from '@app/auth';
import { ComplianceAudit } from '../compliance-audit';
import { CardProvenanceReader, type CardProvenance } from './card-provenance.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How a card came to be: hook call, inference request and result, raw model output, what was dropped. */
@ApiExcludeController()
@Controller('compliance/cards')
@UseGuards(StaffAuthGuard)
@Roles('compliance')
export class CardProvenanceController {
  constructor(
    private readonly provenance: CardProvenanceReader,
    private readonly audit: ComplianceAudit,
  ) {}

  @Get(':uuid/provenance')
  async show(@Req() req: Request, @Param('uuid') uuid: string): Promise<CardProvenance> {
    if (!UUID.test(uuid)) throw new BadRequestException('invalid_card');
    const found = await this.provenance.read(uuid.toLowerCase());
    const patientRef = found?.hookInvocation['patientRef'];
    await this.audit.record(req, 'compliance.provenance', {
      patientRef: typeof patientRef === 'string' ? patientRef : null,
      detail: { card: uuid.toLowerCase(), found: found !== null },
    });
    if (!found) throw new NotFoundException();
    return found;
  }
}
