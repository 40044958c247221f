import type { AuditRecord, AuditWriter } from '@app/audit';

/**
 * The proxy's handle on the audit writer. Kept out of Nest's provider list on purpose: Nest would close
 * the writer in onModuleDestroy, in parallel with the consumer's drain, and the last results of a
 * graceful shutdown could then not be audited. The lifecycle closes it after the result writer drained.
 */
export class ProxyAudit {
  constructor(private readonly writer: AuditWriter) {}

  record(event: AuditRecord): Promise<void> {
    return this.writer.record(event);
  }

  async close(): Promise<void> {
    await this.writer.onModuleDestroy();
  }
}
