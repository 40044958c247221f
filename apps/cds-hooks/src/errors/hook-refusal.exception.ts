import type { HttpStatus } from '@nestjs/common';
import type { AuditDetail } from '@app/database';
import { HookException } from './hook.exception';
import type { IssueCode } from './operation-outcome';

/** Which audit event a refused call leaves. */
export type RefusalAction = 'hook.refused' | 'feedback.refused' | 'discovery.refused';

/**
 * What was learnt of the call before it was refused, recorded with the refusal: the patient and hook instance
 * once the context was read, and details of the reason (never values from the request).
 */
export interface RefusalContext {
  readonly patientRef?: string;
  readonly hookInstance?: string;
  readonly detail?: AuditDetail;
}

/**
 * A refused call: answered with an OperationOutcome like any HookException, and audited as `action` with
 * `reason` by OperationOutcomeFilter, the one place refusals are recorded. `serviceId` undefined means the
 * service named in the path.
 */
export class HookRefusalException extends HookException {
  constructor(
    readonly action: RefusalAction,
    readonly reason: string,
    status: HttpStatus,
    problems: ReadonlyArray<{ code: IssueCode; diagnostics: string; expression?: string }>,
    readonly serviceId?: string | null,
    readonly context?: RefusalContext,
  ) {
    super(status, problems);
  }

  static invalid(
    action: RefusalAction,
    reason: string,
    problems: ReadonlyArray<{ diagnostics: string; expression?: string }>,
  ): HookRefusalException {
    return new HookRefusalException(
      action,
      reason,
      400,
      problems.map((p) => ({ code: 'invalid' as const, ...p })),
    );
  }
}
