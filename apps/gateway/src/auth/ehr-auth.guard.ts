import { HttpStatus, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AuthRefusal, bearerToken, CdsJwtVerifier, RefusedException } from '@app/auth';
import { CLIENT_ID_HEADER, ClientRegistryCache } from '@app/clients';
import { inSpan } from '@app/observability';
import { GatewayUrls } from '../forwarding/gateway-urls.service';
import { setCaller } from './caller';

/**
 * Every CDS Hooks call (discovery, hooks, feedback) carries a client JWT whose `aud` is the public URL of the
 * endpoint called. Refusals are a bare 401 (403 for a service the client may not call), coded so the edge
 * exception filter audits them.
 */
@Injectable()
export class EhrAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: CdsJwtVerifier,
    private readonly clients: ClientRegistryCache,
    private readonly urls: GatewayUrls,
  ) {}

  canActivate(ctx: ExecutionContext): Promise<boolean> {
    return inSpan('meditron-gateway', 'gateway.auth', {}, () => this.check(ctx));
  }

  private async check(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request>();
    // Only the gateway says who called; a copy sent by the caller is dropped before anything reads it.
    delete req.headers[CLIENT_ID_HEADER];
    let caller;
    try {
      caller = await this.verifier.verify(bearerToken(req.header('authorization')), this.urls.audienceFor(req));
    } catch (e) {
      if (!(e instanceof AuthRefusal)) throw e;
      const tenant = e.clientId ? (this.clients.current().get(e.clientId)?.tenant ?? null) : null;
      throw new RefusedException({ reason: e.code, clientId: e.clientId, tenant }, HttpStatus.UNAUTHORIZED);
    }
    const id: unknown = req.params['id'];
    const serviceId = typeof id === 'string' ? id : undefined;
    if (serviceId !== undefined && !this.clients.current().allowsService(caller.client.id, serviceId)) {
      throw new RefusedException(
        { reason: 'service_not_allowed', clientId: caller.client.id, tenant: caller.client.tenant },
        HttpStatus.FORBIDDEN,
      );
    }
    setCaller(req, caller);
    return true;
  }
}
