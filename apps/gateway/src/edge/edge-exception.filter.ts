import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

const TEXT: Readonly<Record<number, string>> = {
  400: 'invalid request',
  404: 'not found',
  405: 'method not allowed',
  413: 'request body too large',
  415: 'unsupported media type',
  429: 'too many requests',
  503: 'service unavailable',
};

const REASON_CODE = /^[a-z_]{1,40}$/;

/**
 * The gateway's only error shape. 401 and 403 are bare (nothing that helps an attacker); other client errors are
 * a FHIR OperationOutcome naming at most a reason code; anything unexpected is logged and answered with a plain 500.
 */
@Catch()
export class EdgeExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(EdgeExceptionFilter.name);

  catch(e: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    if (!(e instanceof HttpException)) {
      this.logger.error(e instanceof Error ? `${e.name}: ${e.message}` : 'non-error thrown');
      res.status(500).type('application/fhir+json').send(outcome('exception', 'internal error'));
      return;
    }
    const status = e.getStatus();
    if (status === 401) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(401).end();
      return;
    }
    if (status === 403) {
      res.status(403).end();
      return;
    }
    // The rest of an oversized body is not read: do not keep the connection for another request.
    if (status === 413) res.setHeader('Connection', 'close');
    const reason = REASON_CODE.test(e.message) ? e.message : (TEXT[status] ?? 'request failed');
    res
      .status(status)
      .type('application/fhir+json')
      .send(outcome(status === 429 ? 'throttled' : status === 404 ? 'not-found' : 'invalid', reason));
  }
}

function outcome(code: string, diagnostics: string): string {
  return JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] });
}
