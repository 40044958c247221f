import { BackendError } from './backend-error';
import type { BackendPool } from './backend-pool';
import type { BackendState } from './backend-state';
import { backoffMs, pause } from './retry-backoff';
import { classifyHttpError } from './http-error-class';
import { chooseBackend } from './routing-policy';

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
    const opts = this.pool.opts;
    const tried = new Set<string>();
    let last: BackendError | undefined;
    for (let round = 1; round <= opts.maxAttempts && !signal.aborted; round++) {
      if (round > 1 && !(await pause(backoffMs(round - 1, opts.retryBaseMs, opts.retryMaxMs), signal))) break;
      const backend = chooseBackend(this.pool.backends, {
        now: Date.now(),
        tried,
        maxOutstanding: opts.maxOutstanding,
      });
      if (!backend) {
        last ??= new BackendError('no_backend', 'pool');
        continue;
      }
      tried.add(backend.id);
      const attempt = await this.once(backend, path, bodyFor(backend), signal, tried.size);
      if (attempt instanceof BackendError) {
        last = attempt;
        continue;
      }
      return attempt;
    }
    throw (last ?? new BackendError('timeout', 'pool')).withAttempts(tried.size);
  }

  private async once(
    backend: BackendState,
    path: string,
    body: unknown,
    signal: AbortSignal,
    attempts: number,
  ): Promise<Forwarded | BackendError> {
    backend.outstanding += 1;
    backend.started += 1;
    const sentAt = performance.now();
    let finished = false;
    const done = (ok: boolean, outcome: BackendError | undefined): void => {
      if (finished) return;
      finished = true;
      this.pool.release(backend);
      const reason = outcome?.cooldownReason();
      if (reason) {
        backend.coolDown(this.pool.opts.cooldownMs, Date.now());
        this.pool.observer?.cooledDown(backend.id, reason);
      } else if (ok) backend.succeeded();
      this.pool.observer?.callFinished(backend.id, outcome?.code ?? 'ok', (performance.now() - sentAt) / 1000);
    };
    try {
      const response = await fetch(`${backend.target.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.pool.opts.callTimeoutMs)]),
      });
      const status = response.status;
      // 429, 503, 424 (TGI generation error) and 5xx go to another backend; other answers reach the caller.
      if (status === 429 || status === 424 || status >= 500) {
        await response.body?.cancel();
        const err = new BackendError(classifyHttpError(backend.target.kind, status, ''), backend.id, status);
        done(false, err);
        return err;
      }
      return {
        response,
        backendId: backend.id,
        attempts,
        sentAt,
        // A stream cut by the caller says nothing about the backend: no cooldown.
        done: (ok) => done(ok, ok ? undefined : new BackendError('unknown', backend.id)),
      };
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      const err = new BackendError(signal.aborted ? 'unknown' : timedOut ? 'timeout' : 'connection', backend.id);
      done(false, err);
      return err;
    }
  }
}
