import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthRefusal, bearerToken, CdsJwtVerifier, RefusalRecorder } from '@app/auth';
import { CLIENT_ID_HEADER } from '@app/clients';
import { REQUEST_ID_HEADER } from '@app/observability';
import { GatewayUrls } from '../forwarding/gateway-urls';
import { setCaller } from './caller';
import { ClientDirectory } from './client-directory.service';

/**
 * Every CDS Hooks call (discovery, hooks, feedback) carries a client JWT whose `aud` is the public URL of the
 * endpoint called. Refusals are a bare 401 (403 for a service the client may not call) and an audit event.
 */
@Injectable()
export class EhrAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: CdsJwtVerifier,
    private readonly clients: ClientDirectory,
    private readonly urls: GatewayUrls,
    private readonly refusals: RefusalRecorder,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request>();
    const res = ctx.switchToHttp().getResponse<Response>();
    // Only the gateway says who called; a copy sent by the caller is dropped before anything reads it.
    delete req.headers[CLIENT_ID_HEADER];
    try {
      const caller = await this.verifier.verify(bearerToken(req.header('authorization')), this.urls.audienceFor(req));
      const id: unknown = req.params['id'];
      const serviceId = typeof id === 'string' ? id : undefined;
      if (serviceId !== undefined && !this.clients.current().allowsService(caller.client.id, serviceId)) {
        await this.refuse(req, res, 'service_not_allowed', caller.client.id, caller.client.tenant);
        throw new ForbiddenException();
      }
      setCaller(req, caller);
      return true;
    } catch (e) {
      if (!(e instanceof AuthRefusal)) throw e;
      const tenant = e.clientId ? (this.clients.current().get(e.clientId)?.tenant ?? null) : null;
      await this.refuse(req, res, e.code, e.clientId, tenant);
      throw new UnauthorizedException();
    }
  }

  private refuse(req: Request, res: Response, reason: string, clientId: string | null, tenant: string | null) {
    return this.refusals.record({
      reason,
      clientId,
      tenant,
      requestId: res.getHeader(REQUEST_ID_HEADER)?.toString() ?? null,
      method: req.method,
      path: req.path,
    });
  }
}
