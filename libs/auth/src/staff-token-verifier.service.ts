import { jwtVerify, type JWTPayload } from 'jose';
import type { AsymmetricAlgorithm } from './algorithms';
import { AuthRefusal } from './auth-refusal';
import { refusalFromJose } from './jose-errors';
import type { JwksCache } from './jwks-cache.service';

export interface StaffAuthOptions {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly audience: string;
  /** Dotted claim paths holding role lists, e.g. `roles`, `realm_access.roles` (Keycloak); roles are merged. */
  readonly roleClaims: ReadonlyArray<string>;
  readonly algorithms: ReadonlyArray<AsymmetricAlgorithm>;
  readonly clockSkewS: number;
  /** Longest `exp - iat` accepted: a staff token that lives longer (or says nothing of when it was issued) is refused. */
  readonly maxLifetimeS: number;
  /** Accepted `typ` header values, compared without case or an `application/` prefix (RFC 9068: `at+jwt`). */
  readonly types: ReadonlyArray<string>;
}

export interface StaffPrincipal {
  readonly subject: string;
  readonly roles: ReadonlyArray<string>;
}

/** Verifies staff OIDC access tokens against the configured issuer's JWKS. */
export class StaffTokenVerifier {
  constructor(
    private readonly opts: StaffAuthOptions,
    private readonly keys: JwksCache,
  ) {}

  async verify(token: string): Promise<StaffPrincipal> {
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({
        payload,
        protectedHeader: { typ },
      } = await jwtVerify(token, this.keys.remoteSet(this.opts.jwksUrl), {
        algorithms: [...this.opts.algorithms],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        clockTolerance: this.opts.clockSkewS,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (e) {
      throw refusalFromJose(e, null);
    }
    // An ID token or another JWT the IdP signed is not an access token (RFC 9068 §4: check typ).
    if (typ === undefined || !this.opts.types.map(normalType).includes(normalType(typ))) {
      throw new AuthRefusal('wrong_token_type', null);
    }
    // A stolen long-lived token is a long-lived key to the audit trail: bound what is accepted.
    if (payload.exp! - payload.iat! > this.opts.maxLifetimeS) throw new AuthRefusal('lifetime_too_long', null);
    const roles = new Set<string>();
    for (const path of this.opts.roleClaims) {
      for (const role of rolesAt(payload, path)) roles.add(role);
    }
    return { subject: payload.sub ?? '', roles: [...roles] };
  }
}

function normalType(typ: string): string {
  return typ.toLowerCase().replace(/^application\//, '');
}

function rolesAt(payload: JWTPayload, path: string): string[] {
  let node: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return [];
    node = (node as Record<string, unknown>)[part];
  }
  if (typeof node === 'string') return node.split(' ').filter((r) => r.length > 0);
  return Array.isArray(node) ? node.filter((r): r is string => typeof r === 'string') : [];
}
