import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { EdgeMetricsModule } from './edge-metrics.module';
import { REFUSAL_CLOCK, RefusalAggregator } from './refusal-aggregator';
import { SourceRateLimitMiddleware } from './source-rate-limit.middleware';

/** Limits before authentication (per-source rate limit on every route) and the aggregated audit of refusals. */
@Module({
  imports: [EdgeMetricsModule],
  providers: [{ provide: REFUSAL_CLOCK, useValue: Date.now }, RefusalAggregator, SourceRateLimitMiddleware],
  exports: [RefusalAggregator],
})
export class EdgeLimitsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(SourceRateLimitMiddleware).forRoutes({ path: '{*splat}', method: RequestMethod.ALL });
  }
}
