import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuditModule } from '@app/audit';
import { ClientsModule } from '@app/clients';
import { ConfigModule, kafkaSecurity } from '@app/config';
import { DatabaseModule } from '@app/database';
import { MessagingModule, type InProcessBus, type MessagingTransport } from '@app/messaging';
import { loggerModule, MetricsServerModule } from '@app/observability';
import { InternalAuthModule } from './auth/internal-auth.module';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from './cds-hooks.config';
import { DiscoveryModule } from './discovery/discovery.module';
import { OperationOutcomeFilter } from './errors/operation-outcome.filter';
import { FeedbackModule } from './feedback/feedback.module';
import { HooksModule } from './hooks/hooks.module';
import { CdsHooksMetricsModule } from './metrics/cds-hooks-metrics.module';

export interface CdsHooksOptions {
  readonly config: CdsHooksConfig;
  readonly databaseUrl: string;
  /**
   * The local single-process stack's in-memory transport. Without it Kafka carries requests and Postgres
   * LISTEN/NOTIFY carries the result signal.
   */
  readonly bus?: InProcessBus;
}

/** cds-hooks: database, audit and transport (global, closed last), then discovery, hooks and feedback. */
@Module({})
export class CdsHooksModule {
  static forRoot(opts: CdsHooksOptions): DynamicModule {
    const c = opts.config;
    return {
      module: CdsHooksModule,
      imports: [
        loggerModule('cds-hooks', c.LOG_LEVEL),
        MetricsServerModule.forRoot({ app: 'cds-hooks', port: c.METRICS_PORT, host: c.METRICS_HOST }),
        ConfigModule.forRoot(CDS_HOOKS_CONFIG, c),
        DatabaseModule.forRoot({
          url: opts.databaseUrl,
          poolSize: c.DB_POOL_SIZE,
          preparedStatements: c.DB_PREPARED_STATEMENTS,
          applicationName: 'meditron-cds-hooks',
        }),
        AuditModule,
        // One registry cache: which FHIR servers a client may reach (prefetch) and which services it may call
        // (InternalAuthGuard checks that here too, not only at the gateway).
        ClientsModule.forRoot({
          file: c.EHR_CLIENTS_FILE,
          // Reloaded in the background; a client/server pair not (yet) allowed reloads at most every 5 s.
          maxAgeMs: Number.POSITIVE_INFINITY,
          missReloadMs: 5_000,
          refreshMs: c.EHR_CLIENTS_REFRESH_MS,
          // Loaded on first use, as before: a broken registry refuses FHIR calls rather than stopping the hooks.
          loadAtStart: false,
        }),
        InternalAuthModule,
        MessagingModule.forDispatcher(transportOf(c, opts)),
        DiscoveryModule,
        CdsHooksMetricsModule,
        HooksModule,
        FeedbackModule,
      ],
      // Every error leaves as an OperationOutcome; refusals are audited there, in one place.
      providers: [{ provide: APP_FILTER, useClass: OperationOutcomeFilter }],
    };
  }
}

function transportOf(c: CdsHooksConfig, opts: CdsHooksOptions): MessagingTransport {
  if (opts.bus) return { kind: 'in-process', bus: opts.bus };
  if (!c.KAFKA_BROKERS)
    throw new Error('cds-hooks: KAFKA_BROKERS is required when not running in the local single-process stack');
  return {
    kind: 'kafka',
    kafka: { brokers: c.KAFKA_BROKERS, clientId: c.KAFKA_CLIENT_ID, security: kafkaSecurity(c) },
    databaseUrl: opts.databaseUrl,
  };
}
