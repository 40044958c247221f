import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { operationOutcome, type IssueCode } from './operation-outcome';

const codeFor: Record<number, IssueCode> = {
  400: 'invalid',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  405: 'not-supported',
  412: 'incomplete',
  413: 'too-costly',
  415: 'not-supported',
  429: 'throttled',
};

/**
 * Every error leaves as a FHIR OperationOutcome. Unexpected errors are logged (type only; messages can
 * carry data) and answered with a plain 500 without internals.
 */
@Catch()
export class OperationOutcomeFilter implements ExceptionFilter {
  private readonly logger = new Logger('errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      if (
        typeof body === 'object' &&
        body !== null &&
        (body as { resourceType?: unknown }).resourceType === 'OperationOutcome'
      ) {
        res.status(status).type('application/fhir+json').json(body);
        return;
      }
      const message = typeof body === 'string' ? body : (HttpStatus[status] ?? 'error');
      const diagnostics = status === 400 && typeof body === 'object' ? 'malformed request body' : String(message);
      res
        .status(status)
        .type('application/fhir+json')
        .json(operationOutcome([{ code: codeFor[status] ?? 'processing', diagnostics }]));
      return;
    }
    // The message line of a stack can quote data (a driver error naming a value): keep the frames only.
    const frames = exception instanceof Error ? exception.stack?.split('\n').slice(1, 8).join('\n') : undefined;
    this.logger.error(`unhandled ${exception instanceof Error ? exception.name : typeof exception}`, frames);
    res
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .type('application/fhir+json')
      .json(operationOutcome([{ code: 'exception', diagnostics: 'internal error' }]));
  }
}
