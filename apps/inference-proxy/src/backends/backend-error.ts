/** One error type for every backend kind, so routing and retries need not know vLLM from TGI. */
export type BackendErrorCode =
  'overloaded' | 'unavailable' | 'timeout' | 'bad_request' | 'malformed_response' | 'connection' | 'unknown';

export class BackendError extends Error {
  constructor(
    readonly code: BackendErrorCode,
    readonly backendId: string,
    readonly status?: number,
  ) {
    super(`backend ${backendId}: ${code}${status ? ` (HTTP ${status})` : ''}`);
    this.name = 'BackendError';
  }

  /** Worth trying on another backend. */
  get retryable(): boolean {
    return this.code !== 'bad_request';
  }
}
