/** Why a caller was turned away. Recorded in the audit trail; never sent to the caller. */
export type AuthRefusalCode =
  | 'missing_token'
  | 'malformed_token'
  | 'alg_not_allowed'
  | 'kid_missing'
  | 'unknown_issuer'
  | 'jku_not_allowed'
  | 'no_key_source'
  | 'unknown_kid'
  | 'keys_unavailable'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'iat_in_future'
  | 'lifetime_too_long'
  | 'wrong_token_type'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'claims_invalid'
  | 'replayed'
  | 'service_not_allowed'
  | 'staff_auth_not_configured'
  | 'missing_role';

export class AuthRefusal extends Error {
  constructor(
    readonly code: AuthRefusalCode,
    /** The registered client the token claimed to come from, when its issuer was known. */
    readonly clientId: string | null = null,
  ) {
    super(`refused: ${code}`);
    this.name = 'AuthRefusal';
  }
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9_.~+/=-]+)$/i;
/** Far above any real CDS Hooks or OIDC token; stops a header from making us parse megabytes. */
const MAX_TOKEN_LENGTH = 16_384;

/** The token in an `Authorization: Bearer` header. */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') throw new AuthRefusal('missing_token');
  const m = BEARER.exec(header.trim());
  if (!m || m[1]!.length > MAX_TOKEN_LENGTH) throw new AuthRefusal('malformed_token');
  return m[1]!;
}
