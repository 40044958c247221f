import type { Provider, Type } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChainHeadPublisher } from '@app/audit';
import type { Env } from '@app/config';
import { AuditChainController } from './chain/audit-chain.controller';
import { SharedChainVerifier } from './chain/chain-verification.service';
import { ComplianceAudit } from './compliance-audit';
import { loadComplianceConfig } from './compliance.config';
import { ConsoleController } from './console/console.controller';
import { AuditMaintenance } from './retention/audit-maintenance.service';
import { FhirAuditEventController } from './fhir/fhir-audit-event.controller';
import { CardProvenanceController } from './provenance/card-provenance.controller';
import { CardProvenanceReader } from './provenance/card-provenance.service';
import { AuditEventSearch } from './search/audit-event.search';
import { AuditEventsController } from './search/audit-events.controller';

/**
 * The compliance API. Registered in the gateway's own module (not a child module) because it needs the gateway's
 * DataSource, AuditWriter and StaffAuthGuard instances: one audit queue and one staff verifier per process.
 */
export const complianceControllers: Type[] = [
  AuditEventsController,
  FhirAuditEventController,
  CardProvenanceController,
  AuditChainController,
  ConsoleController,
];

export function complianceProviders(env: Env = process.env): Provider[] {
  const config = loadComplianceConfig(env);
  return [
    AuditEventSearch,
    ComplianceAudit,
    CardProvenanceReader,
    SharedChainVerifier,
    {
      provide: ChainHeadPublisher,
      useFactory: (ds: DataSource) => new ChainHeadPublisher(ds, { intervalMs: config.AUDIT_CHAIN_PUBLISH_MS }),
      inject: [DataSource],
    },
    {
      provide: AuditMaintenance,
      useFactory: (ds: DataSource) => new AuditMaintenance(ds, config),
      inject: [DataSource],
    },
  ];
}
