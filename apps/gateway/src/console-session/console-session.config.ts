import { z } from 'zod';

/**
 * Console sign-in (OIDC authorization code + PKCE, done by the gateway): spread into the gateway's environment schema.
 * The issuer and audience are the staff ones (STAFF_OIDC_*); unset CONSOLE_OIDC_CLIENT_ID leaves console sign-in off.
 */
export const consoleSessionEnv = {
  /** The console's client id at the organisation's identity provider. */
  CONSOLE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  /** Its secret (confidential web client); unset for a public client (PKCE only). */
  CONSOLE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Scopes asked for: OIDC ones plus whatever gets an access token for this API (Entra: `api://<app>/<scope>`). */
  CONSOLE_OIDC_SCOPES: z.string().min(1).default('openid profile offline_access'),
  /** RFC 8707 `resource` sent with the authorization and token requests (oidc-provider, ADFS); usually unset. */
  CONSOLE_OIDC_RESOURCE: z.string().min(1).optional(),
  /** Longest a console session lasts, whatever the refresh tokens allow. */
  CONSOLE_SESSION_MAX_S: z.coerce
    .number()
    .int()
    .positive()
    .default(8 * 3600),
  /** Most console sessions held at once (in memory, per replica). */
  CONSOLE_SESSION_MAX_COUNT: z.coerce.number().int().positive().default(1000),
};
