import { errors } from 'jose';
import { AuthRefusal, type AuthRefusalCode } from './auth-refusal';

/** Maps what jose throws to a refusal code; anything that is not a jose error is a key fetch problem. */
export function refusalFromJose(e: unknown, clientId: string | null): AuthRefusal {
  if (e instanceof AuthRefusal) return e;
  return new AuthRefusal(codeFor(e), clientId);
}

function codeFor(e: unknown): AuthRefusalCode {
  if (e instanceof errors.JWTExpired) return 'expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case 'aud':
        return 'wrong_audience';
      case 'iss':
        return 'wrong_issuer';
      case 'nbf':
        return 'not_yet_valid';
      case 'iat':
        return 'iat_in_future';
      default:
        return 'claims_invalid';
    }
  }
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_kid';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) return 'alg_not_allowed';
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid) return 'keys_unavailable';
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid || e instanceof errors.JWKInvalid) {
    return 'malformed_token';
  }
  return 'keys_unavailable';
}
