import {
  HttpException,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request } from 'express';
import { tap, type Observable } from 'rxjs';
import type { CdsResponse } from '../cards/card';
import { ServiceCatalog } from '../discovery/service-catalog';
import { CdsHooksMetrics, type HookOutcome } from './cds-hooks-metrics.service';

/**
 * Counts and times each hook call once answered. The service label is the route's id only when the catalog knows
 * it, so a caller cannot mint label values; body validation failures (pipes run inside) count as refused.
 */
@Injectable()
export class HookMetricsInterceptor implements NestInterceptor {
  constructor(
    private readonly metrics: CdsHooksMetrics,
    private readonly catalog: ServiceCatalog,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler<CdsResponse>): Observable<CdsResponse> {
    const start = process.hrtime.bigint();
    const id = ctx.switchToHttp().getRequest<Request>().params.id;
    const service = typeof id === 'string' && this.catalog.find(id) ? id : 'unknown';
    const done = (outcome: HookOutcome) =>
      this.metrics.hookAnswered(service, outcome, Number(process.hrtime.bigint() - start) / 1e9);
    return next.handle().pipe(
      tap({
        next: (res) => done(res.cards.length > 0 ? 'cards' : 'no_cards'),
        error: (e: unknown) => done(e instanceof HttpException && e.getStatus() < 500 ? 'refused' : 'error'),
      }),
    );
  }
}
