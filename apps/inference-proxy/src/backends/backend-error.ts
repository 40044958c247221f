import type { CooldownReason } from './backend-state';

/** One error type for every backend kind, so routing and retries need not know vLLM from TGI. */
export type BackendErrorCode =
  | 'overloaded'
  | 'unavailable'
  | 'timeout'
  | 'bad_request'
  /** The prompt is longer than the backend takes (TGI 422, vLLM 400): a prompt-budget bug, never retried. */
  | 'input_too_long'
  /** TGI 424: generation failed on this backend; another may succeed. */
  | 'generation_failed'
  | 'malformed_response'
  | 'connection'
  | 'no_backend'
  | 'unknown';

export class BackendError extends Error {
  constructor(
    readonly code: BackendErrorCode,
    readonly backendId: string,
    readonly status?: number,
    /** Backend calls made for the request before giving up (set by the pool). */
    readonly attempts = 0,
  ) {
    super(`backend ${backendId}: ${code}${status ? ` (HTTP ${status})` : ''}`);
    this.name = 'BackendError';
  }

  /** Worth trying on another backend. */
  get retryable(): boolean {
    return this.code !== 'bad_request' && this.code !== 'input_too_long';
  }

  /** The backend is shedding load or gone: skip it for a while rather than hammer it. */
  cooldownReason(): CooldownReason | undefined {
    const c = this.code;
    if (c === 'generation_failed') return 'unavailable';
    return c === 'overloaded' || c === 'unavailable' || c === 'timeout' || c === 'connection' ? c : undefined;
  }

  withAttempts(attempts: number): BackendError {
    return new BackendError(this.code, this.backendId, this.status, attempts);
  }
}
