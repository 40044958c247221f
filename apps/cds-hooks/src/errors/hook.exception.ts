import { HttpException, HttpStatus } from '@nestjs/common';
import { operationOutcome, type IssueCode } from './operation-outcome';

/** A refusal answered with an OperationOutcome body (400 malformed input, 412 data unavailable, 404 unknown service). */
export class HookException extends HttpException {
  constructor(
    status: HttpStatus,
    problems: ReadonlyArray<{ code: IssueCode; diagnostics: string; expression?: string }>,
  ) {
    super(operationOutcome(problems), status);
  }

  static badRequest(problems: ReadonlyArray<{ diagnostics: string; expression?: string }>): HookException {
    return new HookException(
      HttpStatus.BAD_REQUEST,
      problems.map((p) => ({ code: 'invalid' as const, ...p })),
    );
  }
}
