import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import type { ChainVerification } from '@app/audit';
import { Roles, StaffAuthGuard } from '@app/auth';
import { ComplianceAudit } from '../compliance-audit';
import { SharedChainVerifier } from './shared-chain-verifier.service';

/** Walks the hash chain, names the first broken link, and checks the signed checkpoints. */
@ApiExcludeController()
@Controller('compliance/audit-chain')
@UseGuards(StaffAuthGuard)
@Roles('compliance')
export class AuditChainController {
  constructor(
    private readonly verification: SharedChainVerifier,
    private readonly audit: ComplianceAudit,
  ) {}

  @Get('verify')
  async verify(@Req() req: Request): Promise<ChainVerification> {
    const result = await this.verification.run();
    await this.audit.record(req, 'compliance.chain.verified', {
      detail: {
        valid: result.valid,
        rowsChecked: result.rowsChecked,
        brokenAt: result.firstBreak?.id ?? null,
        checkpoints: result.checkpoints.status,
        lastCheckpointId: result.checkpoints.lastVerified?.headId ?? null,
        failedCheckpointId: result.checkpoints.failures[0]?.checkpoint.headId ?? null,
      },
    });
    return result;
  }
}
