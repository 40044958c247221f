import { Module } from '@nestjs/common';
import { ProxyMetrics } from './proxy-metrics.service';

/** The proxy's metrics, on the app registry that MetricsServerModule serves on METRICS_PORT (not the facade port). */
@Module({
  providers: [ProxyMetrics],
  exports: [ProxyMetrics],
})
export class MetricsModule {}
