import { activeTraceHeaders } from '@app/observability';
import { BackendError } from './backend-error';
import type { BackendPool } from './backend-pool.service';
import type { BackendState } from './backend-state';
import { classifyHttpError } from './http-error-class';

export interface Forwarded {
  readonly response: Response;
  readonly backendId: string;
  readonly attempts: number;
  /** When the backend call was issued (performance.now()), for the proxy's own overhead. */
  readonly sentAt: number;
  /** Call once the body has been read or abandoned: the backend's outstanding count covers the stream. */
  done(ok: boolean): void;
}

/**
 * Forwards an OpenAI-compatible request body as is (streamed or not) over the same pool, routing and
 * cooldowns as Kafka traffic. Retries on another backend happen only before the first byte is passed on.
 */
export class BackendForwarder {
  constructor(private readonly pool: BackendPool) {}

  /** `bodyFor` shapes the body for the backend chosen (each kind takes structured output its own way). */
  async forward(path: string, bodyFor: (backend: BackendState) => unknown, signal: AbortSignal): Promise<Forwarded> {
    const { value } = await this.pool.attempt(
      (backend, attempts) => this.once(backend, path, bodyFor(backend), signal, attempts),
      { signal, waitForBackend: false },
    );
    return value;
  }

  /** One backend call; a retryable answer (429, 424, 5xx) or a failed connection is thrown for the next backend. */
  private async once(
    backend: BackendState,
    path: string,
    body: unknown,
    signal: AbortSignal,
    attempts: number,
  ): Promise<Forwarded> {
    const sentAt = this.pool.callStarted(backend);
    let ended = false;
    const end = (failure: BackendError | undefined): void => {
      if (ended) return;
      ended = true;
      this.pool.callEnded(backend, sentAt, failure);
    };
    let response: Response;
    try {
      response = await fetch(`${backend.target.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...activeTraceHeaders() },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.pool.opts.callTimeoutMs)]),
      });
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      const err = new BackendError(signal.aborted ? 'unknown' : timedOut ? 'timeout' : 'connection', backend.id);
      end(err);
      throw err;
    }
    const status = response.status;
    // 429, 503, 424 (TGI generation error) and 5xx go to another backend; other answers reach the caller.
    if (status === 429 || status === 424 || status >= 500) {
      const err = new BackendError(classifyHttpError(backend.target.kind, status, ''), backend.id, status);
      await response.body?.cancel().catch(() => undefined);
      end(err);
      throw err;
    }
    return {
      response,
      backendId: backend.id,
      attempts,
      sentAt,
      // A stream cut by the caller says nothing about the backend: no cooldown.
      done: (ok) => end(ok ? undefined : new BackendError('unknown', backend.id)),
    };
  }
}
