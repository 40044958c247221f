import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { HookRefusalException, type RefusalAction } from '../errors/hook-refusal.exception';
import { ServiceCatalog } from './service-catalog';

const REFUSAL_ACTION = 'cds-hooks:refusal-action';

/** The audit action a controller's refusals are recorded as. */
export const RefusalAudit = (action: RefusalAction) => SetMetadata(REFUSAL_ACTION, action);

export function refusalActionOf(reflector: Reflector, context: ExecutionContext): RefusalAction {
  return (
    reflector.getAllAndOverride<RefusalAction | undefined>(REFUSAL_ACTION, [
      context.getHandler(),
      context.getClass(),
    ]) ?? 'hook.refused'
  );
}

/**
 * Refuses calls to a service the catalog does not enable (404), before the body is parsed, so an unknown
 * service is reported as such whatever the body. Hook refusals name only services that exist; feedback
 * refusals name the id that was asked for.
 */
@Injectable()
export class KnownServiceGuard implements CanActivate {
  constructor(
    private readonly catalog: ServiceCatalog,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const param = context.switchToHttp().getRequest<Request>().params.id;
    const id = typeof param === 'string' ? param : null;
    if (id !== null && this.catalog.find(id)) return true;
    const action = refusalActionOf(this.reflector, context);
    throw new HookRefusalException(
      action,
      'unknown_service',
      404,
      [{ code: 'not-found', diagnostics: 'no CDS service with this id' }],
      action === 'hook.refused' ? null : id,
    );
  }
}
