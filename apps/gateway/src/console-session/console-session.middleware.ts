import { HttpStatus, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { RefusedException } from '@app/auth';
import { ConsoleSessions } from './console-sessions.service';
import { ConsoleSessionStore } from './session-store';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Lets a console session call the staff API: a request without an Authorization header but with a session cookie
 * carries the session's access token from here on, so the staff guard verifies it exactly as a script's bearer token
 * (issuer, audience, lifetime, roles). A state-changing call must also echo the session's CSRF token.
 */
@Injectable()
export class ConsoleSessionMiddleware implements NestMiddleware {
  constructor(private readonly sessions: ConsoleSessions) {}

  async use(req: Request, _res: Response, next: NextFunction): Promise<void> {
    if (req.header('authorization') !== undefined) return next();
    const s = await this.sessions.current(req);
    if (!s) return next();
    if (!SAFE.has(req.method) && !ConsoleSessionStore.csrfMatches(s, req.header(CSRF_HEADER))) {
      throw new RefusedException({ reason: 'csrf_token_mismatch', actor: s.subject }, HttpStatus.FORBIDDEN);
    }
    req.headers.authorization = `Bearer ${s.accessToken}`;
    next();
  }
}
