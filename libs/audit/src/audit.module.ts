import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditWriter } from './audit-writer';

/**
 * One audit queue per process. Global, so its writer drains after every feature module's own
 * beforeApplicationShutdown (their last events are written) and before the database closes.
 */
@Global()
@Module({
  providers: [{ provide: AuditWriter, useFactory: (ds: DataSource) => new AuditWriter(ds), inject: [DataSource] }],
  exports: [AuditWriter],
})
export class AuditModule {}
