import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { INTERNAL_TOKEN_HEADER, InternalTokenRefusal, InternalTokenVerifier } from '@app/auth';
import { ClientRegistryCache } from '@app/clients';
import { refusalActionOf } from '../discovery/known-service.guard';
import { HookRefusalException } from '../errors/hook-refusal.exception';
import { setInternalCaller } from './internal-caller';

/**
 * The first check on every CDS Hooks route of cds-hooks: the call must carry the gateway's token minted for this
 * very method and path (401 otherwise), and the client it names must be allowed the service in the path (403),
 * whoever could reach this app. Refusals are audited by OperationOutcomeFilter.
 */
@Injectable()
export class InternalAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: InternalTokenVerifier,
    private readonly clients: ClientRegistryCache,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const action = refusalActionOf(this.reflector, context);
    const header = req.headers[INTERNAL_TOKEN_HEADER];
    const path = req.originalUrl.split('?')[0] ?? '';
    let call;
    try {
      call = await this.verifier.verify(Array.isArray(header) ? header[0] : header, req.method, path);
    } catch (e) {
      if (!(e instanceof InternalTokenRefusal)) throw e;
      throw new HookRefusalException(action, e.code, 401, [{ code: 'login', diagnostics: 'not authenticated' }], null);
    }
    setInternalCaller(req, call);
    const param = req.params.id;
    const serviceId = typeof param === 'string' ? param : null;
    if (
      serviceId !== null &&
      (call.serviceId !== serviceId || !(await this.clients.allowsService(call.clientId, serviceId)))
    )
      throw new HookRefusalException(
        action,
        'service_not_allowed',
        403,
        [{ code: 'forbidden', diagnostics: 'this client may not call this CDS service' }],
        null,
      );
    return true;
  }
}
