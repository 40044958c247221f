import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditWriter } from './audit-writer';
import { AuditWriterMetrics } from './audit-writer.metrics';

/**
 * One audit queue per process. Global, so its writer drains after every feature module's own
 * beforeApplicationShutdown (their last events are written) and before the database closes.
 * Its queue gauges register on the app's metrics registry (MetricsServerModule, global in every app).
 */
@Global()
@Module({
  providers: [
    { provide: AuditWriter, useFactory: (ds: DataSource) => new AuditWriter(ds), inject: [DataSource] },
    AuditWriterMetrics,
  ],
  exports: [AuditWriter],
})
export class AuditModule {}
