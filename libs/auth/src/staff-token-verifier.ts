import { jwtVerify, type JWTPayload } from 'jose';
import type { AsymmetricAlgorithm } from './algorithms';
import { refusalFromJose } from './jose-errors';
import type { JwksCache } from './jwks-cache';

export interface StaffAuthOptions {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly audience: string;
  /** Dotted claim paths holding role lists, e.g. `roles`, `realm_access.roles` (Keycloak); roles are merged. */
  readonly roleClaims: ReadonlyArray<string>;
  readonly algorithms: ReadonlyArray<AsymmetricAlgorithm>;
  readonly clockSkewS: number;
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
    try {
      ({ payload } = await jwtVerify(token, this.keys.remoteSet(this.opts.jwksUrl), {
        algorithms: [...this.opts.algorithms],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        clockTolerance: this.opts.clockSkewS,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (e) {
      throw refusalFromJose(e, null);
    }
    const roles = new Set<string>();
    for (const path of this.opts.roleClaims) {
      for (const role of rolesAt(payload, path)) roles.add(role);
    }
    return { subject: payload.sub ?? '', roles: [...roles] };
  }
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
