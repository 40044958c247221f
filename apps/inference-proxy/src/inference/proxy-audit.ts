import { Injectable } from '@nestjs/common';
import { AuditWriter, type AuditRecord } from '@app/audit';

/**
 * The proxy's handle on the process's audit writer (AuditModule). The writer itself drains in the global
 * AuditModule's beforeApplicationShutdown, after the result writer drained in the inference module's.
 */
@Injectable()
export class ProxyAudit {
  constructor(private readonly writer: AuditWriter) {}

  record(event: AuditRecord): Promise<void> {
    return this.writer.record(event);
  }
}
