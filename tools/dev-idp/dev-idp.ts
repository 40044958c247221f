import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type Provider from 'oidc-provider' with { 'resolution-mode': 'import' };
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider' with { 'resolution-mode': 'import' };
import type { DevIdpUser } from './dev-idp-users';
import { loginPage, logoutPage } from './login-page';
import { memoryAdapter } from './memory-adapter';

export interface DevIdpOptions {
  readonly port: number;
  readonly host: string;
  /** The gateway's console client: id, secret, where it may be sent back after sign-in and sign-out. */
  readonly client: {
    readonly id: string;
    readonly secret: string;
    readonly redirectUris: ReadonlyArray<string>;
    readonly postLogoutRedirectUris: ReadonlyArray<string>;
  };
  /** The API the access tokens are for (their `aud`): the gateway's STAFF_OIDC_AUDIENCE. */
  readonly audience: string;
  readonly users: ReadonlyArray<DevIdpUser>;
  /** Access token lifetime; short so the console's refresh path is exercised. */
  readonly accessTokenTtlS?: number;
}

export interface DevIdp {
  /** The issuer (`/.well-known/openid-configuration` is under it). */
  readonly issuer: string;
  readonly jwksUrl: string;
  close(): Promise<void>;
}

/** The one scope the gateway asks for on its own API (beside the OIDC scopes). */
export const CONSOLE_SCOPE = 'console';

/**
 * A development OpenID Connect provider (panva `oidc-provider`, OpenID certified) with a password form for a fixed set of
 * users. Issues RFC 9068 JWT access tokens for the gateway's audience carrying the users' `roles`, refresh tokens, and
 * supports RP-initiated logout. Consent is implied for the one first-party client.
 */
export async function startDevIdp(opts: DevIdpOptions): Promise<DevIdp> {
  const { default: ProviderClass } = await import('oidc-provider');
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${port}`;
  const users = new Map(opts.users.map((u) => [u.username, u]));
  const provider = new ProviderClass(issuer, await configuration(opts, users));
  server.on('request', (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/interaction/')) {
      interaction(provider, users, opts.client.id, req, res).catch(() => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('sign-in failed: start again from the console');
      });
      return;
    }
    void provider.callback()(req, res);
  });
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function configuration(opts: DevIdpOptions, users: Map<string, DevIdpUser>): Promise<Configuration> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signing = {
    ...(await exportJWK(privateKey)),
    kid: `dev-idp-${randomBytes(4).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  };
  const ttl = opts.accessTokenTtlS ?? 600;
  return {
    adapter: memoryAdapter(),
    clients: [
      {
        client_id: opts.client.id,
        client_secret: opts.client.secret,
        redirect_uris: [...opts.client.redirectUris],
        post_logout_redirect_uris: [...opts.client.postLogoutRedirectUris],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signing] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'profile', 'offline_access', 'roles'],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], roles: ['roles'] },
    findAccount: (_ctx, id) => {
      const u = users.get(id);
      if (!u) return undefined;
      return { accountId: id, claims: () => ({ sub: id, name: u.name, preferred_username: id, roles: [...u.roles] }) };
    },
    // The access token names the user's roles, as Entra ID app roles and Keycloak realm roles do.
    extraTokenClaims: (_ctx, token) => {
      const accountId = 'accountId' in token && typeof token.accountId === 'string' ? token.accountId : undefined;
      const u = accountId ? users.get(accountId) : undefined;
      return u ? { roles: [...u.roles] } : undefined;
    },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = logoutPage(form);
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => opts.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: CONSOLE_SCOPE,
          audience: opts.audience,
          accessTokenTTL: ttl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    ttl: {
      AccessToken: ttl,
      Session: 8 * 3600,
      Grant: 8 * 3600,
      Interaction: 600,
      IdToken: ttl,
      RefreshToken: 8 * 3600,
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // One first-party client: consent is implied, as an organisation's IdP configures it for its own apps.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const accountId = ctx.oidc.session?.accountId;
      const client = ctx.oidc.client;
      if (!accountId || !client) return undefined;
      const existing = ctx.oidc.session?.grantIdFor(client.clientId);
      if (existing) {
        const found = await ctx.oidc.provider.Grant.find(existing);
        if (found) return found;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId });
      grant.addOIDCScope('openid profile offline_access roles');
      grant.addOIDCClaims(['roles']);
      grant.addResourceScope(opts.audience, CONSOLE_SCOPE);
      await grant.save();
      return grant;
    },
  };
}

/** The login prompt: a form, then the password check. */
async function interaction(
  provider: Provider,
  users: Map<string, DevIdpUser>,
  clientId: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const action = `/interaction/${details.uid}`;
  if (req.method === 'GET') return html(res, 200, loginPage({ action, clientId }));
  if (req.method !== 'POST') return html(res, 405, 'method not allowed');
  const form = new URLSearchParams(await readBody(req));
  const username = form.get('username') ?? '';
  const user = users.get(username);
  if (!user || !samePassword(user.password, form.get('password') ?? '')) {
    return html(res, 401, loginPage({ action, clientId, username, error: 'Unknown user or wrong password.' }));
  }
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.username } },
    { mergeWithLastSubmission: false },
  );
}

function samePassword(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 8192) throw new Error('form too large');
  }
  return body;
}
