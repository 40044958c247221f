import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { REQUEST_ID_HEADER } from '@app/observability';
import { AuthRefusal, bearerToken } from './auth-refusal';
import { RefusalRecorder } from './refusal-recorder';
import { ROLES_KEY, type StaffRole } from './roles.decorator';
import type { StaffPrincipal, StaffTokenVerifier } from './staff-token-verifier';

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

/** Staff OIDC bearer token with one of the roles named by @Roles(): 401 without a valid token, 403 without the role. */
@Injectable()
export class StaffAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(STAFF_TOKEN_VERIFIER) private readonly verifier: StaffTokenVerifier | null,
    private readonly refusals: RefusalRecorder,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const wanted = this.reflector.getAllAndOverride<StaffRole[] | undefined>(ROLES_KEY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    const refuse = async (reason: string, actor: string | null): Promise<void> => {
      await this.refusals.record({
        reason,
        actor,
        requestId: res.getHeader(REQUEST_ID_HEADER)?.toString() ?? null,
        method: req.method,
        path: req.path,
      });
    };

    let principal: StaffPrincipal;
    try {
      if (!this.verifier) throw new AuthRefusal('staff_auth_not_configured');
      principal = await this.verifier.verify(bearerToken(req.header('authorization')));
    } catch (e) {
      await refuse(e instanceof AuthRefusal ? e.code : 'malformed_token', null);
      throw new UnauthorizedException();
    }
    // No @Roles() means no staff route at all: refuse rather than let any signed-in person through.
    if (!wanted || !wanted.some((r) => principal.roles.includes(r))) {
      await refuse('missing_role', principal.subject);
      throw new ForbiddenException();
    }
    (req as WithStaff)[STAFF] = principal;
    return true;
  }
}
