import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { Request } from 'express';
import { AuditException, AuditWriter } from '@app/audit';
import { staffOf } from '@app/auth';
import { REQUEST_ID_HEADER } from '@app/observability';
import type { AuditDetail } from '@app/database';

/**
 * Every use of the compliance API is itself on the audit trail: who, which endpoint, which filters (by name).
 * The audit row may hold the patient reference searched for, since it is the audit trail; logs never do.
 */
@Injectable()
export class ComplianceAudit {
  constructor(private readonly audit: AuditWriter) {}

  /** Resolves once the row is committed; without it the compliance call does not go ahead (503). */
  async record(
    req: Request,
    action: string,
    opts: { patientRef?: string | null; detail?: AuditDetail } = {},
  ): Promise<void> {
    try {
      await this.audit.record({
        action,
        outcome: 'success',
        service: 'gateway',
        actor: staffOf(req).subject,
        patientRef: opts.patientRef ?? null,
        requestId: req.res?.getHeader(REQUEST_ID_HEADER)?.toString() ?? null,
        detail: { path: req.path, ...opts.detail },
      });
    } catch (e) {
      if (e instanceof AuditException) throw new ServiceUnavailableException('audit_unavailable');
      throw e;
    }
  }
}
