import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { GatewayMetrics } from './gateway-metrics.service';

/**
 * Times every request and counts it once it finishes (or the caller goes away). The route label is read at the end,
 * when Express has set `req.route` to the matched route: its template, not the path the caller sent.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: GatewayMetrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const start = process.hrtime.bigint();
    let counted = false;
    const done = () => {
      if (counted) return;
      counted = true;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.metrics.requestFinished(req.method, routeTemplate(req), res.statusCode, seconds);
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  }
}

function routeTemplate(req: Request): string | undefined {
  const route: unknown = req.route;
  if (typeof route !== 'object' || route === null || !('path' in route)) return undefined;
  return typeof route.path === 'string' ? route.path : undefined;
}
