import { Catch, HttpException, Injectable, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RefusedException } from '@app/auth';
import { errorKind, REQUEST_ID_HEADER } from '@app/observability';
import { sourceKey } from './client-source';
import { GatewayMetrics } from './gateway-metrics.service';
import { RefusalAggregator } from './refusal-aggregator';

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
 * Coded refusals (RefusedException) are audited here first, the one place the gateway records them: through the
 * refusal aggregator (one event per source, reason and window, paths truncated, a bounded share of the audit queue).
 */
@Catch()
@Injectable()
export class EdgeExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(EdgeExceptionFilter.name);

  constructor(
    private readonly refusals: RefusalAggregator,
    private readonly metrics: GatewayMetrics,
  ) {}

  catch(e: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    if (res.headersSent) return;
    if (e instanceof RefusedException && e.refusal) {
      this.metrics.refused(e.refusal.reason, e.getStatus());
      const req = http.getRequest<Request>();
      const r = e.refusal;
      // The aggregator never rejects, and answers at once when the refusal is only counted.
      void this.refusals
        .record({
          action: r.action ?? 'auth.refused',
          reason: r.reason,
          source: sourceKey(req.ip),
          clientId: r.clientId ?? null,
          tenant: r.tenant ?? null,
          actor: r.actor ?? null,
          requestId: res.getHeader(REQUEST_ID_HEADER)?.toString() ?? null,
          method: req.method,
          path: req.path,
        })
        .then(() => this.respond(e, res));
      return;
    }
    this.respond(e, res);
  }

  private respond(e: unknown, res: Response): void {
    if (res.headersSent) return;
    if (!(e instanceof HttpException)) {
      // Class and code only: a database error's message can quote the row (patient data).
      this.logger.error(`unhandled ${errorKind(e)}`);
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
