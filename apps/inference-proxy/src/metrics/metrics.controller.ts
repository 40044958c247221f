import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ProxyMetrics } from './proxy-metrics';

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(ProxyMetrics) private readonly metrics: ProxyMetrics) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
