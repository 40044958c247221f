import { Logger } from '@nestjs/common';
import type * as OidcClient from 'openid-client' with { 'resolution-mode': 'import' };
import type { PendingLogin } from './session-store';

export interface StaffOidcClientOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly scopes: string;
  readonly resource: string | undefined;
  /** `<PUBLIC_BASE_URL>/console/auth/callback`, registered at the identity provider. */
  readonly redirectUri: string;
  /** Where the identity provider sends the browser after sign-out (`<PUBLIC_BASE_URL>/console`). */
  readonly postLogoutRedirectUri: string;
}

export interface SignedIn {
  readonly subject: string;
  readonly name: string | null;
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly idToken: string | undefined;
  readonly accessExpiresAt: number;
}

export interface Refreshed {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly accessExpiresAt: number;
}

type Lib = typeof OidcClient;

/**
 * The gateway as an OIDC relying party for the console (openid-client: discovery, authorization code + PKCE, refresh,
 * RP-initiated logout). Discovery runs on first use and again after a failure, so a slow identity provider at boot
 * does not stop the gateway.
 */
export class StaffOidcClient {
  private readonly logger = new Logger(StaffOidcClient.name);
  private discovered: Promise<{ lib: Lib; config: OidcClient.Configuration }> | undefined;

  constructor(private readonly opts: StaffOidcClientOptions) {}

  async authorizationUrl(): Promise<{ url: string; pending: PendingLogin }> {
    const { lib, config } = await this.discover();
    const codeVerifier = lib.randomPKCECodeVerifier();
    const pending: PendingLogin = {
      state: lib.randomState(),
      nonce: lib.randomNonce(),
      codeVerifier,
      startedAt: Date.now(),
    };
    const url = lib.buildAuthorizationUrl(config, {
      redirect_uri: this.opts.redirectUri,
      scope: this.opts.scopes,
      code_challenge: await lib.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      ...(this.opts.resource ? { resource: this.opts.resource } : {}),
    });
    return { url: url.href, pending };
  }

  /** Exchanges the code the identity provider sent back (`callbackUrl` is the full URL it redirected to). */
  async finish(callbackUrl: URL, pending: PendingLogin): Promise<SignedIn> {
    const { lib, config } = await this.discover();
    const tokens = await lib.authorizationCodeGrant(
      config,
      callbackUrl,
      { pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce },
      this.opts.resource ? { resource: this.opts.resource } : undefined,
    );
    const claims = tokens.claims();
    if (!claims) throw new Error('the identity provider sent no ID token');
    const name = [claims['name'], claims['preferred_username']].find((v): v is string => typeof v === 'string');
    return {
      subject: claims.sub,
      name: name ?? null,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      idToken: tokens.id_token,
      accessExpiresAt: Date.now() + (tokens.expiresIn() ?? 300) * 1000,
    };
  }

  async refresh(refreshToken: string): Promise<Refreshed> {
    const { lib, config } = await this.discover();
    const tokens = await lib.refreshTokenGrant(
      config,
      refreshToken,
      this.opts.resource ? { resource: this.opts.resource } : undefined,
    );
    return {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token ?? refreshToken,
      accessExpiresAt: Date.now() + (tokens.expiresIn() ?? 300) * 1000,
    };
  }

  /** The identity provider's end-session URL, or the console itself when it offers none. */
  async logoutUrl(idToken: string | undefined): Promise<string> {
    const { lib, config } = await this.discover();
    if (!config.serverMetadata().end_session_endpoint) return this.opts.postLogoutRedirectUri;
    return lib.buildEndSessionUrl(config, {
      post_logout_redirect_uri: this.opts.postLogoutRedirectUri,
      client_id: this.opts.clientId,
      ...(idToken ? { id_token_hint: idToken } : {}),
    }).href;
  }

  private discover(): Promise<{ lib: Lib; config: OidcClient.Configuration }> {
    this.discovered ??= (async () => {
      const lib = await import('openid-client');
      const issuer = new URL(this.opts.issuer);
      // Plain http only for an identity provider on this machine (the development one).
      const local = issuer.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
      const auth = this.opts.clientSecret ? lib.ClientSecretBasic(this.opts.clientSecret) : lib.None();
      const config = await lib.discovery(
        issuer,
        this.opts.clientId,
        undefined,
        auth,
        local ? { execute: [lib.allowInsecureRequests] } : undefined,
      );
      return { lib, config };
    })().catch((e: unknown) => {
      this.discovered = undefined;
      this.logger.error(`OIDC discovery at ${this.opts.issuer} failed: ${e instanceof Error ? e.message : 'error'}`);
      throw e;
    });
    return this.discovered;
  }
}
