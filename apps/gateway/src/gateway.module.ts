import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuditModule } from '@app/audit';
import { AuthModule } from '@app/auth';
import { ClientsModule } from '@app/clients';
import { ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { loggerModule, MetricsServerModule } from '@app/observability';
import { AdminModule } from './admin/admin.module';
import { EdgeAuthModule } from './auth/edge-auth.module';
import { ComplianceModule } from './compliance/compliance.module';
import { consoleSessionOptions } from './console-session/console-session.options';
import { ConsoleSessionModule } from './console-session/console-session.module';
import { EdgeExceptionFilter } from './edge/edge-exception.filter';
import { EdgeLimitsModule } from './edge/edge-limits.module';
import { EdgeMetricsModule } from './edge/edge-metrics.module';
import { ForwardingModule } from './forwarding/forwarding.module';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway.config';

export interface GatewayOptions {
  readonly config: GatewayConfig;
  /** Client registry table, JWT replay table, audit trail. */
  readonly databaseUrl: string;
}

/** The public edge: database, audit and token verification (global), then edge auth, forwarding, admin, compliance. */
@Module({})
export class GatewayModule {
  static forRoot(opts: GatewayOptions): DynamicModule {
    const c = opts.config;
    return {
      module: GatewayModule,
      imports: [
        loggerModule('gateway', c.LOG_LEVEL),
        MetricsServerModule.forRoot({ app: 'gateway', port: c.METRICS_PORT, host: c.METRICS_HOST }),
        ConfigModule.forRoot(GATEWAY_CONFIG, c),
        DatabaseModule.forRoot({
          url: opts.databaseUrl,
          poolSize: c.DB_POOL_SIZE,
          preparedStatements: c.DB_PREPARED_STATEMENTS,
          applicationName: 'meditron-gateway',
        }),
        AuditModule,
        ClientsModule.forRoot({
          file: c.EHR_CLIENTS_FILE,
          // Reloaded in the background; an unknown issuer reloads at most every 5 s.
          maxAgeMs: Number.POSITIVE_INFINITY,
          missReloadMs: 5_000,
          refreshMs: c.EHR_CLIENTS_REFRESH_MS,
          loadAtStart: true,
        }),
        AuthModule.forRoot({
          jwks: {
            cacheMaxAgeMs: c.JWKS_CACHE_MAX_AGE_MS,
            cooldownMs: c.JWKS_COOLDOWN_MS,
            timeoutMs: c.JWKS_TIMEOUT_MS,
            maxEntries: 256,
          },
          staff:
            c.STAFF_OIDC_ISSUER && c.STAFF_OIDC_JWKS_URL && c.STAFF_OIDC_AUDIENCE
              ? {
                  issuer: c.STAFF_OIDC_ISSUER,
                  jwksUrl: c.STAFF_OIDC_JWKS_URL,
                  audience: c.STAFF_OIDC_AUDIENCE,
                  roleClaims: c.STAFF_ROLES_CLAIM,
                  algorithms: c.STAFF_OIDC_ALGORITHMS,
                  clockSkewS: c.JWT_CLOCK_SKEW_S,
                  maxLifetimeS: c.STAFF_TOKEN_MAX_LIFETIME_S,
                  types: c.STAFF_TOKEN_TYPES,
                }
              : null,
        }),
        EdgeMetricsModule,
        // Before any module whose guards verify tokens: the per-source limit and the refusal aggregator.
        EdgeLimitsModule,
        EdgeAuthModule,
        ForwardingModule,
        AdminModule,
        ComplianceModule,
        ConsoleSessionModule.forRoot(consoleSessionOptions(c)),
      ],
      // The one error shape of the edge, and the one place refusals are audited.
      providers: [{ provide: APP_FILTER, useClass: EdgeExceptionFilter }],
    };
  }
}
