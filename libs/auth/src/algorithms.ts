/** Asymmetric JWS algorithms jose verifies. `none` and HMAC (shared secrets) are never accepted (CDS Hooks 2.0.1). */
export const ASYMMETRIC_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
] as const;

export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export function isAsymmetricAlgorithm(alg: string): alg is AsymmetricAlgorithm {
  return (ASYMMETRIC_ALGORITHMS as ReadonlyArray<string>).includes(alg);
}

/** Parses a comma-separated allow-list; throws naming any algorithm that may not be allowed. */
export function parseAlgorithmList(raw: string): AsymmetricAlgorithm[] {
  const list = raw
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  if (list.length === 0) throw new Error('lists no algorithm');
  const bad = list.filter((a) => !isAsymmetricAlgorithm(a));
  if (bad.length > 0) {
    throw new Error(`${bad.join(', ')} not allowed (asymmetric only: ${ASYMMETRIC_ALGORITHMS.join(', ')})`);
  }
  return list.filter(isAsymmetricAlgorithm);
}
