import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditWriter } from '@app/audit';
import {
  CdsJwtVerifier,
  JwksCache,
  PgReplayGuard,
  RefusalRecorder,
  STAFF_TOKEN_VERIFIER,
  StaffAuthGuard,
  StaffTokenVerifier,
} from '@app/auth';
import { DatabaseHealthController } from '@app/database';
import { loggerModule } from '@app/observability';
import { AdminClientsController } from './admin/admin-clients.controller';
import { complianceControllers, complianceProviders } from './compliance/compliance.providers';
import { ClientDirectory } from './auth/client-directory.service';
import { EhrAuthGuard } from './auth/ehr-auth.guard';
import { ReplayPurger } from './auth/replay-purger.service';
import { CdsHooksUpstream } from './forwarding/cds-hooks-upstream';
import { CdsServicesController } from './forwarding/cds-services.controller';
import { GatewayUrls } from './forwarding/gateway-urls';
import { JsonBodyReader } from './forwarding/json-body.reader';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway.config';
import { ClientRateLimitGuard } from './rate-limit/client-rate-limit.guard';
import type { GatewayRuntime } from './runtime';

function authProviders(config: GatewayConfig): Provider[] {
  return [
    {
      provide: JwksCache,
      useValue: new JwksCache({
        cacheMaxAgeMs: config.JWKS_CACHE_MAX_AGE_MS,
        cooldownMs: config.JWKS_COOLDOWN_MS,
        timeoutMs: config.JWKS_TIMEOUT_MS,
        maxEntries: 256,
      }),
    },
    { provide: PgReplayGuard, useFactory: (ds: DataSource) => new PgReplayGuard(ds), inject: [DataSource] },
    {
      provide: CdsJwtVerifier,
      useFactory: (clients: ClientDirectory, keys: JwksCache, replay: PgReplayGuard) =>
        new CdsJwtVerifier(clients, keys, replay, {
          algorithms: config.JWT_ALGORITHMS,
          clockSkewS: config.JWT_CLOCK_SKEW_S,
          maxLifetimeS: config.JWT_MAX_LIFETIME_S,
        }),
      inject: [ClientDirectory, JwksCache, PgReplayGuard],
    },
    {
      provide: STAFF_TOKEN_VERIFIER,
      useFactory: (keys: JwksCache) =>
        config.STAFF_OIDC_ISSUER && config.STAFF_OIDC_JWKS_URL && config.STAFF_OIDC_AUDIENCE
          ? new StaffTokenVerifier(
              {
                issuer: config.STAFF_OIDC_ISSUER,
                jwksUrl: config.STAFF_OIDC_JWKS_URL,
                audience: config.STAFF_OIDC_AUDIENCE,
                roleClaims: config.STAFF_ROLES_CLAIM,
                algorithms: config.STAFF_OIDC_ALGORITHMS,
                clockSkewS: config.JWT_CLOCK_SKEW_S,
              },
              keys,
            )
          : null,
      inject: [JwksCache],
    },
    { provide: RefusalRecorder, useFactory: (a: AuditWriter) => new RefusalRecorder(a), inject: [AuditWriter] },
    ClientDirectory,
    ReplayPurger,
    EhrAuthGuard,
    StaffAuthGuard,
  ];
}

@Module({})
export class GatewayModule {
  static forRoot(rt: GatewayRuntime): DynamicModule {
    return {
      module: GatewayModule,
      imports: [loggerModule('gateway', rt.config.LOG_LEVEL)],
      controllers: [CdsServicesController, AdminClientsController, DatabaseHealthController, ...complianceControllers],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: rt.config },
        { provide: DataSource, useValue: rt.dataSource },
        { provide: AuditWriter, useFactory: (ds: DataSource) => new AuditWriter(ds), inject: [DataSource] },
        ...authProviders(rt.config),
        ClientRateLimitGuard,
        GatewayUrls,
        JsonBodyReader,
        CdsHooksUpstream,
        ...complianceProviders(),
      ],
    };
  }
}
