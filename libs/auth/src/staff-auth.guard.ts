import { HttpStatus, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuthRefusal, bearerToken } from './auth-refusal';
import { RefusedException } from './refused.exception';
import { ROLES_KEY, type StaffRole } from './roles.decorator';
import type { StaffPrincipal, StaffTokenVerifier } from './staff-token-verifier.service';

/** Provider token for the staff verifier; `null` when staff auth is not configured (every staff call is refused). */
export const STAFF_TOKEN_VERIFIER = Symbol('STAFF_TOKEN_VERIFIER');

const STAFF = Symbol('staffPrincipal');
type WithStaff = Request & { [STAFF]?: StaffPrincipal };

/** The staff member a StaffAuthGuard let through. */
export function staffOf(req: Request): StaffPrincipal {
  const p = (req as WithStaff)[STAFF];
  if (!p) throw new Error('staffOf() on a route without StaffAuthGuard');
  return p;
}

/**
 * Staff OIDC bearer token with one of the roles named by @Roles(): 401 without a valid token, 403 without the role.
 * Refusals are coded (RefusedException) and audited by the app's exception filter.
 */
@Injectable()
export class StaffAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(STAFF_TOKEN_VERIFIER) private readonly verifier: StaffTokenVerifier | null,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request>();
    const wanted = this.reflector.getAllAndOverride<StaffRole[] | undefined>(ROLES_KEY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    let principal: StaffPrincipal;
    try {
      if (!this.verifier) throw new AuthRefusal('staff_auth_not_configured');
      principal = await this.verifier.verify(bearerToken(req.header('authorization')));
    } catch (e) {
      throw new RefusedException(
        { reason: e instanceof AuthRefusal ? e.code : 'malformed_token', actor: null },
        HttpStatus.UNAUTHORIZED,
      );
    }
    // No @Roles() means no staff route at all: refuse rather than let any signed-in person through.
    if (!wanted || !wanted.some((r) => principal.roles.includes(r))) {
      throw new RefusedException({ reason: 'missing_role', actor: principal.subject }, HttpStatus.FORBIDDEN);
    }
    (req as WithStaff)[STAFF] = principal;
    return true;
  }
}
