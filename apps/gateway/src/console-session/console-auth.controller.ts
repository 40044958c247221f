import { Controller, Get, HttpCode, HttpStatus, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuditWriter } from '@app/audit';
import { AuthRefusal, RefusedException, STAFF_TOKEN_VERIFIER, type StaffTokenVerifier } from '@app/auth';
import { REQUEST_ID_HEADER } from '@app/observability';
import { cookie, readCookies } from './cookies';
import { CONSOLE_SESSION_OPTIONS, type ConsoleSessionOptions } from './console-session.options';
import { ConsoleSessions, LOGIN_COOKIE, SESSION_COOKIE } from './console-sessions.service';
import { CSRF_HEADER } from './console-session.middleware';
import { ConsoleSessionStore } from './session-store';

/** Who is signed in to the console, as the console shows it. */
export interface ConsoleWhoAmI {
  readonly subject: string;
  readonly name: string | null;
  /** Staff roles the API sees in the session's access token. */
  readonly roles: ReadonlyArray<string>;
  /** Echo in `x-csrf-token` on every state-changing call. */
  readonly csrfToken: string;
  readonly accessExpiresAt: string;
  readonly sessionEndsAt: string;
}

/**
 * Console sign-in as a backend-for-frontend: the gateway runs the authorization code flow with PKCE, keeps the
 * tokens, and gives the browser an HttpOnly SameSite=Strict session cookie. Sign-in and sign-out are audited.
 */
@ApiExcludeController()
@Controller('console/auth')
export class ConsoleAuthController {
  constructor(
    private readonly sessions: ConsoleSessions,
    private readonly audit: AuditWriter,
    @Inject(CONSOLE_SESSION_OPTIONS) private readonly opts: ConsoleSessionOptions,
    @Inject(STAFF_TOKEN_VERIFIER) private readonly verifier: StaffTokenVerifier | null,
  ) {}

  @Get('login')
  async login(@Res() res: Response): Promise<void> {
    const { url, pending } = await this.sessions.oidc.authorizationUrl();
    this.sessions.store.addPending(pending);
    // Lax: it must come back on the identity provider's cross-site redirect to the callback.
    res.setHeader('set-cookie', cookie(LOGIN_COOKIE, pending.state, this.loginCookie(600)));
    res.setHeader('cache-control', 'no-store');
    res.redirect(302, url);
  }

  @Get('callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const state = typeof req.query['state'] === 'string' ? req.query['state'] : '';
    const bound = readCookies(req.header('cookie')).get(LOGIN_COOKIE);
    const pending = state && bound === state ? this.sessions.store.takePending(state) : undefined;
    res.setHeader('cache-control', 'no-store');
    const clearLogin = cookie(LOGIN_COOKIE, '', this.loginCookie(0));
    if (!pending || typeof req.query['error'] === 'string') {
      res.setHeader('set-cookie', clearLogin);
      res.redirect(302, '/console?signin=failed');
      return;
    }
    let signedIn;
    try {
      signedIn = await this.sessions.oidc.finish(new URL(req.originalUrl, this.opts.publicBaseUrl), pending);
    } catch {
      res.setHeader('set-cookie', clearLogin);
      res.redirect(302, '/console?signin=failed');
      return;
    }
    const now = Date.now();
    const session = {
      ...signedIn,
      id: ConsoleSessionStore.newId(),
      csrfToken: ConsoleSessionStore.newId(),
      endsAt: now + this.opts.maxAgeS * 1000,
    };
    this.sessions.store.add(session);
    await this.record(req, 'console.signed_in', session.subject);
    res.setHeader('set-cookie', [
      clearLogin,
      cookie(SESSION_COOKIE, session.id, {
        path: '/',
        sameSite: 'Strict',
        secure: this.opts.secureCookies,
        maxAgeS: this.opts.maxAgeS,
      }),
    ]);
    res.redirect(302, '/console');
  }

  @Get('session')
  async whoami(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ConsoleWhoAmI> {
    res.setHeader('cache-control', 'no-store');
    const s = await this.sessions.current(req);
    if (!s) throw new RefusedException(null, HttpStatus.UNAUTHORIZED);
    let roles: ReadonlyArray<string> = [];
    try {
      if (this.verifier) roles = (await this.verifier.verify(s.accessToken)).roles;
    } catch (e) {
      // Signed in at the identity provider, but its token is not one the API accepts: shown as no roles.
      if (!(e instanceof AuthRefusal)) throw e;
    }
    return {
      subject: s.subject,
      name: s.name,
      roles,
      csrfToken: s.csrfToken,
      accessExpiresAt: new Date(s.accessExpiresAt).toISOString(),
      sessionEndsAt: new Date(s.endsAt).toISOString(),
    };
  }

  /** Ends the session here and answers where to send the browser to end it at the identity provider too. */
  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<{ logoutUrl: string }> {
    const s = await this.sessions.current(req);
    if (!s) throw new RefusedException(null, HttpStatus.UNAUTHORIZED);
    if (!ConsoleSessionStore.csrfMatches(s, req.header(CSRF_HEADER))) {
      throw new RefusedException({ reason: 'csrf_token_mismatch', actor: s.subject }, HttpStatus.FORBIDDEN);
    }
    this.sessions.store.remove(s.id);
    await this.record(req, 'console.signed_out', s.subject);
    res.setHeader(
      'set-cookie',
      cookie(SESSION_COOKIE, '', { path: '/', sameSite: 'Strict', secure: this.opts.secureCookies, maxAgeS: 0 }),
    );
    return { logoutUrl: await this.sessions.oidc.logoutUrl(s.idToken) };
  }

  private loginCookie(maxAgeS: number) {
    return { path: '/console/auth', sameSite: 'Lax' as const, secure: this.opts.secureCookies, maxAgeS };
  }

  private record(req: Request, action: string, actor: string): Promise<void> {
    return this.audit.record({
      action,
      outcome: 'success',
      service: 'gateway',
      actor,
      requestId: req.res?.getHeader(REQUEST_ID_HEADER)?.toString() ?? null,
      detail: { path: req.path },
    });
  }
}
