import { randomBytes } from 'node:crypto';
import type { Env } from '@app/config';
import { startDevIdp, type DevIdp } from '../dev-idp/dev-idp';
import type { DevIdpUser } from '../dev-idp/dev-idp-users';

export const DEV_CONSOLE_CLIENT_ID = 'meditron-console';
export const DEV_STAFF_AUDIENCE = 'urn:meditron:gateway';

export interface LocalDevIdp {
  readonly idp: DevIdp;
  readonly users: ReadonlyArray<DevIdpUser>;
  /** What the gateway needs to sign console users in against it and accept its access tokens. */
  readonly gatewayEnv: Env;
}

/**
 * The development identity provider of `npm start`, on its own port (DEV_IDP_PORT, default 8088), registered with the
 * gateway as its staff issuer and console client. A new client secret at every start: nothing outside the process needs it.
 */
export async function startLocalDevIdp(opts: {
  readonly env: Env;
  readonly host: string;
  readonly publicBaseUrl: string;
  readonly users: ReadonlyArray<DevIdpUser>;
}): Promise<LocalDevIdp> {
  const base = opts.publicBaseUrl.replace(/\/+$/, '');
  const secret = randomBytes(24).toString('base64url');
  const idp = await startDevIdp({
    port: Number(opts.env.DEV_IDP_PORT ?? 8088),
    host: opts.host,
    audience: DEV_STAFF_AUDIENCE,
    users: opts.users,
    client: {
      id: DEV_CONSOLE_CLIENT_ID,
      secret,
      redirectUris: [`${base}/console/auth/callback`],
      postLogoutRedirectUris: [`${base}/console`],
    },
  });
  return {
    idp,
    users: opts.users,
    gatewayEnv: {
      STAFF_OIDC_ISSUER: idp.issuer,
      STAFF_OIDC_JWKS_URL: idp.jwksUrl,
      STAFF_OIDC_AUDIENCE: DEV_STAFF_AUDIENCE,
      CONSOLE_OIDC_CLIENT_ID: DEV_CONSOLE_CLIENT_ID,
      CONSOLE_OIDC_CLIENT_SECRET: secret,
    },
  };
}
