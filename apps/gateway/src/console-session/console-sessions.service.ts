import { Logger } from '@nestjs/common';
import type { Request } from 'express';
import { readCookies } from './cookies';
import { ConsoleSessionStore, type ConsoleSession } from './session-store';
import type { StaffOidcClient } from './staff-oidc-client';

export const SESSION_COOKIE = 'meditron_console';
export const LOGIN_COOKIE = 'meditron_console_login';

/** Refresh this long before the access token expires, so a call never carries one that lapses in flight. */
const REFRESH_AHEAD_MS = 30_000;

/**
 * The console session of a request: found by its cookie, its access token refreshed when close to expiry. A session
 * whose token cannot be refreshed ends, and the console sends the user back through the identity provider.
 */
export class ConsoleSessions {
  private readonly logger = new Logger(ConsoleSessions.name);
  private readonly refreshing = new Map<string, Promise<ConsoleSession | undefined>>();

  constructor(
    readonly store: ConsoleSessionStore,
    readonly oidc: StaffOidcClient,
  ) {}

  async current(req: Request): Promise<ConsoleSession | undefined> {
    const id = readCookies(req.header('cookie')).get(SESSION_COOKIE);
    const s = id ? this.store.get(id) : undefined;
    if (!s || s.accessExpiresAt - REFRESH_AHEAD_MS > Date.now()) return s;
    let running = this.refreshing.get(s.id);
    if (!running) {
      running = this.refresh(s).finally(() => this.refreshing.delete(s.id));
      this.refreshing.set(s.id, running);
    }
    return running;
  }

  private async refresh(s: ConsoleSession): Promise<ConsoleSession | undefined> {
    if (!s.refreshToken) {
      this.store.remove(s.id);
      return undefined;
    }
    try {
      const r = await this.oidc.refresh(s.refreshToken);
      s.accessToken = r.accessToken;
      s.refreshToken = r.refreshToken;
      s.accessExpiresAt = r.accessExpiresAt;
      return s;
    } catch (e) {
      this.logger.warn(`console session refresh refused: ${e instanceof Error ? e.name : 'error'}; signing out`);
      this.store.remove(s.id);
      return undefined;
    }
  }
}
