import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { EhrClient } from '@app/clients';
import type { AsymmetricAlgorithm } from './algorithms';
import { AuthRefusal } from './auth-refusal';
import { refusalFromJose } from './jose-errors';
import type { JwksCache } from './jwks-cache.service';
import type { ReplayGuard } from './pg-replay-guard.service';

/** Finds the registered client for a token's `iss`. */
export interface ClientLookup {
  findByIssuer(issuer: string): Promise<EhrClient | undefined>;
}

export interface CdsJwtVerifierOptions {
  readonly algorithms: ReadonlyArray<AsymmetricAlgorithm>;
  /** Tolerance on exp, nbf and iat. */
  readonly clockSkewS: number;
  /** Longest accepted time from now to `exp`: bounds how long a jti must be remembered. */
  readonly maxLifetimeS: number;
}

export interface VerifiedCdsCaller {
  readonly client: EhrClient;
  readonly jti: string;
  readonly expiresAt: Date;
  /** The token's `tenant` claim, when sent. */
  readonly tenantClaim: string | null;
}

const MAX_JTI_LENGTH = 256;

/**
 * Verifies a CDS Hooks client JWT (CDS Hooks 2.0.1, "Trusting CDS Clients"): asymmetric algorithms from the
 * allow-list only, a registered issuer, a key from that client's own key set (a `jku` only when allow-listed), `aud`
 * equal to the endpoint called, exp/nbf/iat within the skew, and a jti never seen before. Other claims are ignored.
 */
export class CdsJwtVerifier {
  constructor(
    private readonly clients: ClientLookup,
    private readonly keys: JwksCache,
    private readonly replay: ReplayGuard,
    private readonly opts: CdsJwtVerifierOptions,
  ) {}

  async verify(token: string, audience: string): Promise<VerifiedCdsCaller> {
    const jku = this.checkHeader(token);
    const issuer = unverifiedIssuer(token);
    const client = await this.clients.findByIssuer(issuer);
    if (!client) throw new AuthRefusal('unknown_issuer');
    const getKey = this.keySource(client, jku);

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms: [...this.opts.algorithms],
        issuer: client.issuer,
        audience,
        clockTolerance: this.opts.clockSkewS,
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
      }));
    } catch (e) {
      throw refusalFromJose(e, client.id);
    }

    const now = Math.floor(Date.now() / 1000);
    const { exp, iat, jti } = payload;
    if (typeof exp !== 'number' || typeof iat !== 'number') throw new AuthRefusal('claims_invalid', client.id);
    if (iat > now + this.opts.clockSkewS) throw new AuthRefusal('iat_in_future', client.id);
    if (exp - now > this.opts.maxLifetimeS + this.opts.clockSkewS) {
      throw new AuthRefusal('lifetime_too_long', client.id);
    }
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
      throw new AuthRefusal('claims_invalid', client.id);
    }
    // Kept until the token could no longer pass the exp check, skew included.
    const keepUntil = new Date((exp + this.opts.clockSkewS) * 1000);
    if (!(await this.replay.claim(client.issuer, jti, keepUntil))) throw new AuthRefusal('replayed', client.id);

    const tenant = payload['tenant'];
    return {
      client,
      jti,
      expiresAt: new Date(exp * 1000),
      tenantClaim: typeof tenant === 'string' ? tenant : null,
    };
  }

  /** alg from the allow-list, a kid (the spec requires one), and a jku that is a string if present. */
  private checkHeader(token: string): string | undefined {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new AuthRefusal('malformed_token');
    }
    if (token.split('.').length !== 3) throw new AuthRefusal('malformed_token');
    const alg = header.alg;
    if (typeof alg !== 'string' || !(this.opts.algorithms as ReadonlyArray<string>).includes(alg)) {
      throw new AuthRefusal('alg_not_allowed');
    }
    if (typeof header.kid !== 'string' || header.kid.length === 0) throw new AuthRefusal('kid_missing');
    if (header.jku !== undefined && typeof header.jku !== 'string') throw new AuthRefusal('malformed_token');
    return header.jku;
  }

  /**
   * The registered key set first. A `jku` is a hint (as Epic and others send it on every token): it must be on the
   * client's allow-list, but it is fetched only when the registered set lacks the token's kid.
   */
  private keySource(client: EhrClient, jku: string | undefined): JWTVerifyGetKey {
    // Exact match against the allow-list: a jku is a URL the attacker chose until proven otherwise.
    if (jku !== undefined && !client.allowedJku.includes(jku)) throw new AuthRefusal('jku_not_allowed', client.id);
    const registered = client.jwksUrl
      ? this.keys.remoteSet(client.jwksUrl)
      : client.jwks
        ? this.keys.localSet(client.id, client.jwks)
        : undefined;
    if (jku === undefined || jku === client.jwksUrl) {
      if (!registered) throw new AuthRefusal('no_key_source', client.id);
      return registered;
    }
    if (!registered) return this.keys.remoteSet(jku);
    const hinted = jku;
    return async (header, token) => {
      try {
        return await registered(header, token);
      } catch (e) {
        if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
        return this.keys.remoteSet(hinted)(header, token);
      }
    };
  }
}

function unverifiedIssuer(token: string): string {
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch {
    throw new AuthRefusal('malformed_token');
  }
  if (typeof payload.iss !== 'string' || payload.iss.length === 0) throw new AuthRefusal('unknown_issuer');
  return payload.iss;
}
