import type { GatewayConfig } from '../gateway.config';
import type { StaffOidcClientOptions } from './staff-oidc-client';

export const CONSOLE_SESSION_OPTIONS = Symbol('CONSOLE_SESSION_OPTIONS');

export interface ConsoleSessionOptions {
  readonly oidc: StaffOidcClientOptions;
  readonly publicBaseUrl: string;
  /** Secure cookies when the console is reached over https (PUBLIC_BASE_URL). */
  readonly secureCookies: boolean;
  readonly maxAgeS: number;
  readonly maxSessions: number;
}

/** The console's sign-in settings from the gateway's environment; null when CONSOLE_OIDC_CLIENT_ID is unset. */
export function consoleSessionOptions(c: GatewayConfig): ConsoleSessionOptions | null {
  if (!c.CONSOLE_OIDC_CLIENT_ID || !c.STAFF_OIDC_ISSUER) return null;
  const base = c.PUBLIC_BASE_URL.replace(/\/+$/, '');
  return {
    oidc: {
      issuer: c.STAFF_OIDC_ISSUER,
      clientId: c.CONSOLE_OIDC_CLIENT_ID,
      clientSecret: c.CONSOLE_OIDC_CLIENT_SECRET,
      scopes: c.CONSOLE_OIDC_SCOPES,
      resource: c.CONSOLE_OIDC_RESOURCE,
      redirectUri: `${base}/console/auth/callback`,
      postLogoutRedirectUri: `${base}/console`,
    },
    publicBaseUrl: base,
    secureCookies: base.startsWith('https:'),
    maxAgeS: c.CONSOLE_SESSION_MAX_S,
    maxSessions: c.CONSOLE_SESSION_MAX_COUNT,
  };
}
