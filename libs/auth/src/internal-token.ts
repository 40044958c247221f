import { createHash, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';

/** Header carrying the gateway's per-call token to cds-hooks. */
export const INTERNAL_TOKEN_HEADER = 'x-meditron-internal-token';
export const INTERNAL_ISSUER = 'meditron-gateway';
export const INTERNAL_AUDIENCE = 'meditron-cds-hooks';
/** Longest life of an internal token: one forwarded call, with room for clock skew between pods. */
export const INTERNAL_TOKEN_TTL_S = 30;

/** What the gateway vouches for on one forwarded call. */
export interface InternalCall {
  /** The EHR client the gateway verified. */
  readonly clientId: string;
  readonly requestId: string;
  /** The CDS service in the path; null for discovery. */
  readonly serviceId: string | null;
  readonly method: string;
  /** The cds-hooks path called, without query. */
  readonly path: string;
}

const claims = z.object({
  sub: z.string().min(1),
  rid: z.string().min(1),
  svc: z.string().min(1).nullable(),
  htm: z.string().min(1),
  htp: z.string().min(1),
  jti: z.string().min(1),
  exp: z.number(),
});

/** The HMAC key, imported once per signer or verifier (given raw bytes, jose would import them on every call). */
function keyOf(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'base64url'));
}

/** A stable, log-safe name for a path (the path itself can carry ids). */
export function pathHash(method: string, path: string): string {
  return createHash('sha256').update(`${method.toUpperCase()} ${path}`).digest('base64url');
}

/** Mints the token the gateway sends with each call it forwards (HS256, audience cds-hooks, 30 s, one jti). */
export class InternalTokenSigner {
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = keyOf(secret);
  }

  sign(call: InternalCall, now = Date.now()): Promise<string> {
    const iat = Math.floor(now / 1000);
    return new SignJWT({
      rid: call.requestId,
      svc: call.serviceId,
      htm: call.method.toUpperCase(),
      htp: pathHash(call.method, call.path),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(INTERNAL_ISSUER)
      .setAudience(INTERNAL_AUDIENCE)
      .setSubject(call.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + INTERNAL_TOKEN_TTL_S)
      .setJti(randomUUID())
      .sign(this.key);
  }
}

/** Why an internal token was refused (a reason code for the audit trail; never the token or the path). */
export class InternalTokenRefusal extends Error {
  constructor(readonly code: 'missing_token' | 'invalid_token' | 'token_expired' | 'wrong_call' | 'token_replayed') {
    super(code);
  }
}

/**
 * Checks the gateway's token on cds-hooks: signature, issuer, audience, lifetime, that it was minted for this
 * very method and path, and that its jti is new. Seen jtis are kept until their token expires; each replica
 * keeps its own, which is enough for a token that lives 30 s and names one call.
 */
export class InternalTokenVerifier {
  private readonly key: KeyObject;
  private readonly seen = new Map<string, number>();

  constructor(secret: string) {
    this.key = keyOf(secret);
  }

  async verify(token: string | undefined, method: string, path: string, now = Date.now()): Promise<InternalCall> {
    if (!token) throw new InternalTokenRefusal('missing_token');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: INTERNAL_ISSUER,
        audience: INTERNAL_AUDIENCE,
        maxTokenAge: INTERNAL_TOKEN_TTL_S,
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
        currentDate: new Date(now),
      }));
    } catch (e) {
      throw new InternalTokenRefusal(e instanceof errors.JWTExpired ? 'token_expired' : 'invalid_token');
    }
    const parsed = claims.safeParse(payload);
    if (!parsed.success) throw new InternalTokenRefusal('invalid_token');
    const c = parsed.data;
    if (c.exp - Math.floor(now / 1000) > INTERNAL_TOKEN_TTL_S) throw new InternalTokenRefusal('invalid_token');
    if (c.htm !== method.toUpperCase() || c.htp !== pathHash(method, path))
      throw new InternalTokenRefusal('wrong_call');
    this.forgetExpired(now);
    if (this.seen.has(c.jti)) throw new InternalTokenRefusal('token_replayed');
    this.seen.set(c.jti, c.exp * 1000);
    return { clientId: c.sub, requestId: c.rid, serviceId: c.svc, method: c.htm, path };
  }

  private forgetExpired(now: number): void {
    // Insertion order is expiry order (every token lives the same 30 s), so the expired ones come first.
    for (const [jti, until] of this.seen) {
      if (until >= now) break;
      this.seen.delete(jti);
    }
  }
}
