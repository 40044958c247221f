import { Module } from '@nestjs/common';
import { ClientRegistryCache } from '@app/clients';
import { CdsJwtVerifier, JwksCache, PgReplayGuard } from '@app/auth';
import { GatewayUrls } from '../forwarding/gateway-urls.service';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { ClientRateLimitGuard } from '../rate-limit/client-rate-limit.guard';
import { EhrAuthGuard } from './ehr-auth.guard';
import { ReplayPurger } from './replay-purger.service';

/**
 * EHR client authentication at the edge: client JWT verification against the client registry (ClientsModule), replay protection,
 * and per-client rate limits. Exports what its guards need, since a guard is built in the module that uses it.
 */
@Module({
  providers: [
    GatewayUrls,
    {
      provide: CdsJwtVerifier,
      useFactory: (c: GatewayConfig, clients: ClientRegistryCache, keys: JwksCache, replay: PgReplayGuard) =>
        new CdsJwtVerifier(clients, keys, replay, {
          algorithms: c.JWT_ALGORITHMS,
          clockSkewS: c.JWT_CLOCK_SKEW_S,
          maxLifetimeS: c.JWT_MAX_LIFETIME_S,
        }),
      inject: [GATEWAY_CONFIG, ClientRegistryCache, JwksCache, PgReplayGuard],
    },
    ReplayPurger,
    EhrAuthGuard,
    ClientRateLimitGuard,
  ],
  exports: [GatewayUrls, CdsJwtVerifier, EhrAuthGuard, ClientRateLimitGuard],
})
export class EdgeAuthModule {}
