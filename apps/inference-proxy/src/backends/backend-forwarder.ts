import { BackendError } from './backend-error';
import { CallSignal, type BackendReply } from './backend-http';
import type { BackendPool } from './backend-pool.service';
import type { BackendState } from './backend-state';
import { classifyHttpError } from './http-error-class';

export interface Forwarded {
  /** The backend's answer; its body (a Node stream) is the caller's to read, then `done`. */
  readonly response: BackendReply;
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
    // The caller leaving (signal) or the call's own timeout ends it, body included.
    const call = new CallSignal(this.pool.opts.callTimeoutMs, signal);
    let ended = false;
    const end = (failure: BackendError | undefined): void => {
      if (ended) return;
      ended = true;
      call.dispose();
      this.pool.callEnded(backend, sentAt, failure);
    };
    let response: BackendReply;
    try {
      response = await this.pool.http.postJson(`${backend.target.baseUrl}${path}`, JSON.stringify(body), call.signal);
    } catch {
      // Aborted by the caller (gone: says nothing of the backend), else by the call's timeout, else no connection.
      const err = new BackendError(signal.aborted ? 'unknown' : call.timedOut ? 'timeout' : 'connection', backend.id);
      end(err);
      throw err;
    }
    const status = response.status;
    // 429, 503, 424 (TGI generation error) and 5xx go to another backend; other answers reach the caller.
    if (status === 429 || status === 424 || status >= 500) {
      const err = new BackendError(classifyHttpError(backend.target.kind, status, ''), backend.id, status);
      // Read to the end (small error bodies), so the connection goes back to the pool rather than being closed.
      await response.body.dump().catch(() => undefined);
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
