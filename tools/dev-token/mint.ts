import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateJwk: JWK;
}

/** A CDS Hooks client JWT (CDS Hooks 2.0.1): typ JWT, kid, iss, aud = the endpoint URL, exp, iat, a fresh jti. */
export async function mintClientToken(
  key: SigningKey,
  claims: { readonly issuer: string; readonly audience: string; readonly ttlS: number; readonly tenant?: string },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims.tenant ? { tenant: claims.tenant } : {})
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + claims.ttlS)
    .setJti(randomUUID())
    .sign(await importJWK(key.privateJwk, key.alg));
}
