import { Module } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { ChainHeadPublisher } from '@app/audit';
import { METRICS_REGISTRY } from '@app/observability';
import { AuditChainController } from './chain/audit-chain.controller';
import { SharedChainVerifier } from './chain/shared-chain-verifier.service';
import { ComplianceAudit } from './compliance-audit';
import { loadComplianceConfig, type ComplianceConfig } from './compliance.config';
import { ConsoleController } from './console/console.controller';
import { DashboardController } from './dashboard/dashboard.controller';
import { loadDashboardConfig } from './dashboard/dashboard.config';
import { GovernanceDashboard } from './dashboard/dashboard.service';
import { GovernanceRollup } from './dashboard/governance-rollup.service';
import { CardExplainer } from './explain/card-explainer.service';
import { CardExplanationController } from './explain/card-explanation.controller';
import { FhirAuditEventController } from './fhir/fhir-audit-event.controller';
import { CardProvenanceController } from './provenance/card-provenance.controller';
import { CardProvenanceReader } from './provenance/card-provenance.service';
import { AuditMaintenance } from './retention/audit-maintenance.service';
import { AuditEventSearch } from './search/audit-event.search';
import { AuditEventsController } from './search/audit-events.controller';

const COMPLIANCE_CONFIG = Symbol('COMPLIANCE_CONFIG');

/**
 * The compliance API and console: audit search (JSON, FHIR, CSV), chain verification, card provenance, and the
 * background chain-head publishing and partition maintenance. Staff auth and the audit writer come from the
 * global AuthModule and AuditModule, so the process keeps one staff verifier and one audit queue.
 */
@Module({
  controllers: [
    AuditEventsController,
    FhirAuditEventController,
    CardProvenanceController,
    AuditChainController,
    ConsoleController,
    DashboardController,
    CardExplanationController,
  ],
  providers: [
    // Its own variables, validated at boot beside GATEWAY_* (see compliance.config.ts).
    { provide: COMPLIANCE_CONFIG, useFactory: () => loadComplianceConfig(process.env) },
    AuditEventSearch,
    ComplianceAudit,
    CardProvenanceReader,
    SharedChainVerifier,
    GovernanceDashboard,
    CardExplainer,
    {
      provide: GovernanceRollup,
      useFactory: (ds: DataSource) => new GovernanceRollup(ds, loadDashboardConfig(process.env).DASHBOARD_ROLLUP_MS),
      inject: [DataSource],
    },
    {
      provide: ChainHeadPublisher,
      // On the gateway's registry, so the head gauges are scraped from its metrics port.
      useFactory: (ds: DataSource, c: ComplianceConfig, registry: Registry) =>
        new ChainHeadPublisher(ds, { intervalMs: c.AUDIT_CHAIN_PUBLISH_MS, registry }),
      inject: [DataSource, COMPLIANCE_CONFIG, METRICS_REGISTRY],
    },
    {
      provide: AuditMaintenance,
      useFactory: (ds: DataSource, c: ComplianceConfig) => new AuditMaintenance(ds, c),
      inject: [DataSource, COMPLIANCE_CONFIG],
    },
  ],
})
export class ComplianceModule {}
