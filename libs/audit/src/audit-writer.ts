import type { DataSource } from 'typeorm';
import { AuditEventEntity } from '@app/database';
import type { AuditRecord } from './audit-record';

/**
 * Writes audit events. For now one INSERT per event, awaited, so an event is durable before the call it
 * describes is answered; the batched, hash-chained writer replaces this behind the same interface.
 */
export class AuditWriter {
  constructor(private readonly dataSource: DataSource) {}

  async record(event: AuditRecord): Promise<void> {
    await this.dataSource.getRepository(AuditEventEntity).insert({
      recordedAt: new Date(),
      action: event.action,
      outcome: event.outcome,
      service: event.service,
      actor: event.actor ?? null,
      clientId: event.clientId ?? null,
      tenant: event.tenant ?? null,
      patientRef: event.patientRef ?? null,
      requestId: event.requestId ?? null,
      hookInstance: event.hookInstance ?? null,
      detail: event.detail ?? {},
    });
  }
}
