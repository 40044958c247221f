import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { ProxyMetrics } from './proxy-metrics';

/** The proxy's Prometheus registry and its `/metrics` endpoint. */
@Module({
  controllers: [MetricsController],
  providers: [ProxyMetrics],
  exports: [ProxyMetrics],
})
export class MetricsModule {}
