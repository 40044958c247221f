import { BadRequestException, Controller, Get, NotFoundException, Param, Req, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { Roles, StaffAuthGuard, staffOf } from '@app/auth';
import { ComplianceAudit } from '../compliance-audit';
import { CardExplainer } from './card-explainer.service';
import type { CardExplanation } from './card-explanation';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Roles that may see which patient a card was about; other staff see the explanation without it. */
const PATIENT_IDENTITY_ROLES: ReadonlyArray<string> = ['compliance'];

/** One card explained end to end. Every view is audited, with the patient it concerned. */
@ApiExcludeController()
@Controller('compliance/cards')
@UseGuards(StaffAuthGuard)
@Roles('compliance', 'admin')
export class CardExplanationController {
  constructor(
    private readonly explainer: CardExplainer,
    private readonly audit: ComplianceAudit,
  ) {}

  @Get(':uuid/explanation')
  async explain(@Req() req: Request, @Param('uuid') uuid: string): Promise<CardExplanation> {
    if (!UUID.test(uuid)) throw new BadRequestException('invalid_card');
    const card = uuid.toLowerCase();
    const showPatient = staffOf(req).roles.some((r) => PATIENT_IDENTITY_ROLES.includes(r));
    const found = await this.explainer.explain(card);
    await this.audit.record(req, 'compliance.explanation', {
      patientRef: found?.call.patientRef ?? null,
      detail: { card, found: found !== null, patientShown: showPatient },
    });
    if (!found) throw new NotFoundException();
    return showPatient ? found : hidePatient(found);
  }
}

function hidePatient(e: CardExplanation): CardExplanation {
  return {
    ...e,
    call: { ...e.call, patientRef: null, patientHidden: true },
    auditEvents: e.auditEvents.map((a) => ({ ...a, patientRef: null })),
  };
}
