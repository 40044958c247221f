import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { GatewayMetrics } from './gateway-metrics.service';
import { HttpMetricsMiddleware } from './http-metrics.middleware';

/** Request counts and durations on every route, and the refusal counter the edge exception filter feeds. */
@Module({
  providers: [GatewayMetrics, HttpMetricsMiddleware],
  exports: [GatewayMetrics],
})
export class EdgeMetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{*splat}', method: RequestMethod.ALL });
  }
}
