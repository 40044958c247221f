import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '../discovery/discovery.module';
import { CdsHooksMetrics } from './cds-hooks-metrics.service';
import { HookTiming } from './hook-timing.service';

/** Global so the hook path and the prefetch fallback record on one set of metrics without new imports. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [CdsHooksMetrics, HookTiming],
  exports: [CdsHooksMetrics, HookTiming],
})
export class CdsHooksMetricsModule {}
