import { Module } from '@nestjs/common';
import { CdsJwtVerifier, JwksCache, PgReplayGuard } from '@app/auth';
import { GatewayUrls } from '../forwarding/gateway-urls';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { ClientRateLimitGuard } from '../rate-limit/client-rate-limit.guard';
import { ClientDirectory } from './client-directory.service';
import { EhrAuthGuard } from './ehr-auth.guard';
import { ReplayPurger } from './replay-purger.service';

/**
 * EHR client authentication at the edge: the client registry, client JWT verification with replay protection,
 * and per-client rate limits. Exports what its guards need, since a guard is built in the module that uses it.
 */
@Module({
  providers: [
    ClientDirectory,
    GatewayUrls,
    {
      provide: CdsJwtVerifier,
      useFactory: (c: GatewayConfig, clients: ClientDirectory, keys: JwksCache, replay: PgReplayGuard) =>
        new CdsJwtVerifier(clients, keys, replay, {
          algorithms: c.JWT_ALGORITHMS,
          clockSkewS: c.JWT_CLOCK_SKEW_S,
          maxLifetimeS: c.JWT_MAX_LIFETIME_S,
        }),
      inject: [GATEWAY_CONFIG, ClientDirectory, JwksCache, PgReplayGuard],
    },
    ReplayPurger,
    EhrAuthGuard,
    ClientRateLimitGuard,
  ],
  exports: [ClientDirectory, GatewayUrls, CdsJwtVerifier, EhrAuthGuard, ClientRateLimitGuard],
})
export class EdgeAuthModule {}
