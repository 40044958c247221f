/**
 * Failures of a FHIR fetch, as a closed set of codes.
 *
 * Messages are fixed strings per code: they never carry the URL (patient ids sit in paths and queries), the
 * token, or the response body, so the error can be logged and stored as is.
 */
export type FhirFetchErrorCode =
  | 'invalid_url'
  | 'timeout'
  | 'unreachable'
  | 'unauthorized'
  | 'not_found'
  | 'server_error'
  | 'bad_response'
  | 'too_many_pages'
  | 'too_many_entries'
  | 'redirect_refused'
  | 'too_many_redirects';

const MESSAGES: Readonly<Record<FhirFetchErrorCode, string>> = {
  invalid_url: 'FHIR request URL is not a relative read or type search',
  timeout: 'FHIR server did not answer in time',
  unreachable: 'FHIR server could not be reached',
  unauthorized: 'FHIR server refused the access token',
  not_found: 'FHIR resource not found',
  server_error: 'FHIR server failed',
  bad_response: 'FHIR server sent an unexpected response',
  too_many_pages: 'FHIR search has more pages than allowed',
  too_many_entries: 'FHIR search has more entries than allowed',
  redirect_refused: 'FHIR server redirected outside its base URL',
  too_many_redirects: 'FHIR server redirected too many times',
};

export class FhirFetchError extends Error {
  override readonly name = 'FhirFetchError';

  constructor(
    readonly code: FhirFetchErrorCode,
    /** HTTP status when the server answered; safe to log. */
    readonly status?: number,
  ) {
    super(status === undefined ? MESSAGES[code] : `${MESSAGES[code]} (HTTP ${status})`);
  }
}

/**
 * Maps whatever fhir-kit-client or fetch threw. The original error is dropped on purpose: its message holds
 * `HTTP 401: GET <url>` and its `response.data` holds the body.
 */
export function toFhirFetchError(err: unknown): FhirFetchError {
  if (err instanceof FhirFetchError) return err;
  const status = httpStatus(err);
  if (status !== undefined) {
    if (status === 401 || status === 403) return new FhirFetchError('unauthorized', status);
    if (status === 404 || status === 410) return new FhirFetchError('not_found', status);
    if (status >= 500) return new FhirFetchError('server_error', status);
    // 2xx with an unparsable body, or another 4xx (e.g. 400 for a search the server does not support).
    return new FhirFetchError('bad_response', status);
  }
  // Names, not `instanceof`: fetch's errors come from Node's realm, which differs from jest's sandbox.
  const name = typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return new FhirFetchError('timeout');
  // undici: `TypeError: fetch failed` with a cause (ECONNREFUSED, ECONNRESET, "other side closed", DNS).
  // Other TypeErrors are bugs, not network trouble.
  if (name === 'TypeError' && (err as { message?: unknown }).message === 'fetch failed') {
    return new FhirFetchError('unreachable');
  }
  return new FhirFetchError('bad_response');
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('response' in err)) return undefined;
  const response = (err as { response?: unknown }).response;
  if (typeof response !== 'object' || response === null || !('status' in response)) return undefined;
  const status = (response as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}
