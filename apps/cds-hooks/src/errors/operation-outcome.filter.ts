import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuditException, AuditWriter } from '@app/audit';
import { errorKind, REQUEST_ID_HEADER, requestIdFrom } from '@app/observability';
import { internalCallerOf } from '../auth/internal-caller';
import { HookRefusalException } from './hook-refusal.exception';
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
 * Every error leaves as a FHIR OperationOutcome. A refusal is audited first (the one place `*.refused` events are
 * recorded), so it is durable before the EHR hears of it. Unexpected errors are logged (type only; messages can
 * carry data) and answered with a plain 500 without internals.
 */
@Catch()
@Injectable()
export class OperationOutcomeFilter implements ExceptionFilter {
  private readonly logger = new Logger('errors');

  constructor(private readonly audit: AuditWriter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    if (exception instanceof HookRefusalException) {
      // An audit trail that cannot take the refusal fails the call, as a failed write would.
      void this.recordRefusal(exception, http.getRequest<Request>()).then(
        () => this.respond(exception, res),
        (e: unknown) => this.respond(e, res),
      );
      return;
    }
    this.respond(exception, res);
  }

  private recordRefusal(e: HookRefusalException, req: Request): Promise<void> {
    // Only a verified token names the client; a refusal before verification names none.
    const caller = internalCallerOf(req);
    const pathId = typeof req.params?.id === 'string' ? req.params.id : null;
    return this.audit.record({
      action: e.action,
      outcome: 'refused',
      service: 'cds-hooks',
      clientId: caller?.clientId ?? null,
      patientRef: e.context?.patientRef ?? null,
      requestId: caller?.requestId ?? requestIdFrom(req.headers[REQUEST_ID_HEADER]),
      hookInstance: e.context?.hookInstance ?? null,
      detail: { serviceId: e.serviceId === undefined ? pathId : e.serviceId, reason: e.reason, ...e.context?.detail },
    });
  }

  private respond(exception: unknown, res: Response): void {
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
    if (exception instanceof AuditException) {
      // The audit trail cannot take the call's event (queue or spool at its bound, or shutting down): the call is
      // refused as a whole, never answered unaudited. The EHR may retry after a moment.
      this.logger.warn(`hook refused: ${exception.code}`);
      res
        .status(HttpStatus.SERVICE_UNAVAILABLE)
        .setHeader('Retry-After', '1')
        .type('application/fhir+json')
        .json(operationOutcome([{ code: 'transient', diagnostics: 'audit trail busy, retry shortly' }]));
      return;
    }
    // The message line of a stack can quote data (a driver error naming a value): keep the frames only.
    const frames = exception instanceof Error ? exception.stack?.split('\n').slice(1, 8).join('\n') : undefined;
    this.logger.error(`unhandled ${errorKind(exception)}`, frames);
    res
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .type('application/fhir+json')
      .json(operationOutcome([{ code: 'exception', diagnostics: 'internal error' }]));
  }
}
