import { Module } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { ChainHeadPublisher } from '@app/audit';
import {
  AuditChainRepository,
  AuditEventRepository,
  CardFeedbackRepository,
  CardProvenanceRepository,
  DataAccessModule,
  GovernanceDashboardRepository,
  GovernanceRollupRepository,
} from '@app/database';
import { METRICS_REGISTRY } from '@app/observability';
import { AuditChainController } from './chain/audit-chain.controller';
import { ChainVerificationMetrics } from './chain/chain-verification-metrics';
import { ChainVerificationSchedule } from './chain/chain-verification-schedule';
import { CHECKPOINT_SETUP, loadCheckpointSetup, type CheckpointSetup } from './chain/checkpoint-keys';
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
 * background chain-head publishing (signed checkpoints) and partition maintenance. Every query goes through the
 * audit repositories of the data-access layer. Staff auth and the audit writer come from the
 * global AuthModule and AuditModule, so the process keeps one staff verifier and one audit queue.
 */
@Module({
  imports: [
    DataAccessModule.forFeature([
      AuditEventRepository,
      CardProvenanceRepository,
      AuditChainRepository,
      CardFeedbackRepository,
      GovernanceDashboardRepository,
      GovernanceRollupRepository,
    ]),
  ],
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
    // Keys and sink read once at boot; a bad key file stops start-up naming its variable.
    { provide: CHECKPOINT_SETUP, useFactory: loadCheckpointSetup, inject: [COMPLIANCE_CONFIG] },
    ChainVerificationMetrics,
    {
      provide: SharedChainVerifier,
      useFactory: (
        repo: AuditChainRepository,
        k: CheckpointSetup,
        c: ComplianceConfig,
        metrics: ChainVerificationMetrics,
      ) => new SharedChainVerifier(repo, k, c.AUDIT_RETENTION_MONTHS, metrics),
      inject: [AuditChainRepository, CHECKPOINT_SETUP, COMPLIANCE_CONFIG, ChainVerificationMetrics],
    },
    {
      provide: ChainVerificationSchedule,
      useFactory: (verifier: SharedChainVerifier, c: ComplianceConfig) =>
        new ChainVerificationSchedule(verifier, c.AUDIT_CHAIN_VERIFY_MS),
      inject: [SharedChainVerifier, COMPLIANCE_CONFIG],
    },
    GovernanceDashboard,
    CardExplainer,
    {
      provide: GovernanceRollup,
      useFactory: (repo: GovernanceRollupRepository) =>
        new GovernanceRollup(repo, loadDashboardConfig(process.env).DASHBOARD_ROLLUP_MS),
      inject: [GovernanceRollupRepository],
    },
    {
      provide: ChainHeadPublisher,
      // On the gateway's registry, so the head gauges are scraped from its metrics port.
      useFactory: (repo: AuditChainRepository, c: ComplianceConfig, k: CheckpointSetup, registry: Registry) =>
        new ChainHeadPublisher(repo, {
          intervalMs: c.AUDIT_CHAIN_PUBLISH_MS,
          registry,
          ...(k.signingKey ? { signingKey: k.signingKey } : {}),
          ...(k.sink ? { sink: k.sink } : {}),
        }),
      inject: [AuditChainRepository, COMPLIANCE_CONFIG, CHECKPOINT_SETUP, METRICS_REGISTRY],
    },
    {
      provide: AuditMaintenance,
      useFactory: (repo: AuditChainRepository, c: ComplianceConfig) => new AuditMaintenance(repo, c),
      inject: [AuditChainRepository, COMPLIANCE_CONFIG],
    },
  ],
})
export class ComplianceModule {}
