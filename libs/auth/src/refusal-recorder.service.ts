import { Logger } from '@nestjs/common';
import type { AuditWriter } from '@app/audit';
import type { AuthRefusalCode } from './auth-refusal';

export interface RefusalEvent {
  readonly reason: AuthRefusalCode | string;
  readonly action?: 'auth.refused' | 'request.refused';
  readonly clientId?: string | null;
  readonly tenant?: string | null;
  readonly actor?: string | null;
  readonly requestId: string | null;
  readonly method: string;
  readonly path: string;
}

/** Writes refusals to the audit trail: a reason code and where, never token contents. */
export class RefusalRecorder {
  private readonly logger = new Logger(RefusalRecorder.name);

  constructor(private readonly audit: AuditWriter) {}

  async record(e: RefusalEvent): Promise<void> {
    try {
      await this.audit.record({
        action: e.action ?? 'auth.refused',
        outcome: 'refused',
        service: 'gateway',
        actor: e.actor ?? null,
        clientId: e.clientId ?? null,
        tenant: e.tenant ?? null,
        requestId: e.requestId,
        detail: { reason: e.reason, method: e.method, path: e.path },
      });
    } catch (err) {
      // The caller is refused either way; a lost audit row is an operational error to page on.
      this.logger.error(
        `audit write failed for refusal ${e.reason}: ${err instanceof Error ? err.message : 'unknown'}`,
      );
    }
  }
}
