import { Logger } from '@nestjs/common';
import type { BackendKind, BackendTarget } from '@app/config';
import type { InferenceRequestV1 } from '@app/contracts';
import type { Completion } from './backend-client';
import { BackendError, type BackendErrorCode } from './backend-error';
import { poolContextTokens } from './backend-facts';
import { BackendHttp, CallSignal } from './backend-http';
import { BackendMembership } from './backend-membership';
import type { BackendState, CooldownReason } from './backend-state';
import { attemptOverPool, type Attempted, type AttemptCall, type AttemptOptions } from './pool-retry';

export interface PoolCompletion extends Completion {
  readonly backendId: string;
  readonly attempts: number;
}

export interface PoolOptions {
  readonly callTimeoutMs: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly cooldownMs: number;
  readonly maxOutstanding: number;
  /**
   * BACKEND_MAX_CONNECTIONS: keep-alive connections per engine at most (see BackendHttp); default twice
   * `maxOutstanding`, so the cap never holds a call the pool admitted while aborted calls' sockets close.
   */
  readonly maxConnections?: number;
  /** INFERENCE_CONCURRENCY: warned about when the engines' combined bound cannot hold it. */
  readonly concurrency?: number;
}

/** Hooks for metrics; labels are backend ids and outcome codes only. */
export interface PoolObserver {
  callFinished(backendId: string, outcome: 'ok' | BackendErrorCode, seconds: number): void;
  cooledDown(backendId: string, reason: CooldownReason): void;
  /** A drained engine left the pool: its series can go (keeps label sets bounded as pods come and go). */
  backendRemoved?(backendId: string): void;
}

/**
 * The engines (listed or discovered), their call accounting and cooldowns, and the one retry loop over them
 * (pool-retry.ts) that Kafka traffic (`complete`) and the facade (BackendForwarder) share.
 */
export class BackendPool {
  private readonly logger = new Logger(BackendPool.name);
  private readonly membership: BackendMembership;
  /** Kinds of engine the pool may route to (listed or discovered), known before any is discovered. */
  readonly kinds: ReadonlySet<BackendKind>;
  private capacityShort = false;
  /** The engines' HTTP client (model calls and the facade's relay): one bounded keep-alive pool per engine. */
  readonly http: BackendHttp;

  /** `targets`: INFERENCE_BACKENDS; `dns` entries are discovery sources (see BackendDiscovery), others engines. */
  constructor(
    targets: ReadonlyArray<BackendTarget>,
    readonly opts: PoolOptions,
    private readonly observer?: PoolObserver,
  ) {
    this.http = new BackendHttp(opts.maxConnections ?? 2 * opts.maxOutstanding);
    this.membership = new BackendMembership(targets, this.http, (id) => observer?.backendRemoved?.(id));
    this.kinds = new Set(targets.map((t) => t.kind));
    if (this.sources.length === 0) this.checkCapacity();
  }

  /** The engines, live: the same array throughout, changed in place as discovery adds and removes engines. */
  get backends(): ReadonlyArray<BackendState> {
    return this.membership.backends;
  }

  get sources(): ReadonlyArray<BackendTarget> {
    return this.membership.sources;
  }

  /** Sets the engines of a discovery source to those at `addresses`; returns the new ones (not yet probed). */
  reconcile(source: BackendTarget, addresses: ReadonlyArray<string>): BackendState[] {
    const added = this.membership.reconcile(source, addresses);
    this.checkCapacity();
    return added;
  }

  /** Lets calls in flight finish, then closes the engines' connections (on shutdown). */
  close(): Promise<void> {
    return this.http.close();
  }

  /** A call on `backend` finished (or its stream was read): frees its slot. */
  release(backend: BackendState): void {
    this.membership.release(backend);
  }

  /** Warns (on each change) while the engines' combined bound is below this replica's concurrency. */
  private checkCapacity(): void {
    const concurrency = this.opts.concurrency;
    if (concurrency === undefined) return;
    const engines = this.membership.serving();
    const short = engines * this.opts.maxOutstanding < concurrency;
    if (short && !this.capacityShort)
      this.logger.warn(
        `BACKEND_MAX_OUTSTANDING (${this.opts.maxOutstanding}) x ${engines} engine(s) is below INFERENCE_CONCURRENCY (${concurrency}): requests wait for a backend slot`,
      );
    this.capacityShort = short;
  }

  /**
   * The context a prompt may assume on every backend: the smallest any reports (vLLM `max_model_len`, TGI
   * `max_total_tokens` / `max_input_tokens`); null until one has reported (callers fall back to the profile).
   */
  contextTokens(maxOutputTokens: number): number | null {
    return poolContextTokens(
      this.backends.map((b) => b.facts),
      maxOutputTokens,
    );
  }

  /** The smallest input and total limits any backend reports (null: none reported), for the facade's model list. */
  reportedLimits(): { maxInputTokens: number | null; maxTotalTokens: number | null } {
    const min = (pick: (f: NonNullable<BackendState['facts']>) => number | null): number | null => {
      const values = this.backends.map((b) => (b.facts ? pick(b.facts) : null)).filter((n): n is number => n !== null);
      return values.length ? Math.min(...values) : null;
    };
    return { maxInputTokens: min((f) => f.maxInputTokens), maxTotalTokens: min((f) => f.maxTotalTokens) };
  }

  /** Some backend is healthy, not cooling down and below its outstanding bound. */
  hasCapacity(now = Date.now()): boolean {
    return this.backends.some((b) => b.available(now) && b.outstanding < this.opts.maxOutstanding);
  }

  /** Calls backends until one answers, at most `maxAttempts` calls, inside `deadlineMs` (see attemptOverPool). */
  async complete(req: InferenceRequestV1, deadlineMs: number): Promise<PoolCompletion> {
    const { value, backendId, attempts } = await this.attempt(
      (backend, _attempt, remainingMs) => this.call(backend, req, Math.min(remainingMs, this.opts.callTimeoutMs)),
      { deadlineMs, waitForBackend: true },
    );
    return { ...value, backendId, attempts };
  }

  /** The pool's retry loop (shared by Kafka and facade traffic): `call` runs on each backend chosen in turn. */
  attempt<T>(call: AttemptCall<T>, opts: AttemptOptions): Promise<Attempted<T>> {
    return attemptOverPool(this.backends, this.opts, call, opts);
  }

  /** A call on `backend` starts: it counts against the backend's bound until `callEnded`. Returns its start. */
  callStarted(backend: BackendState): number {
    backend.outstanding += 1;
    backend.started += 1;
    return performance.now();
  }

  /**
   * A call (or the stream it returned) ended: cools the backend down when it shed load or was gone, reports the
   * outcome (`failure` undefined: success), then frees the slot.
   */
  callEnded(backend: BackendState, startedAt: number, failure?: BackendError): void {
    const reason = failure?.cooldownReason();
    if (reason) {
      backend.coolDown(this.opts.cooldownMs, Date.now());
      this.observer?.cooledDown(backend.id, reason);
    } else if (!failure) backend.succeeded();
    this.observer?.callFinished(backend.id, failure?.code ?? 'ok', (performance.now() - startedAt) / 1000);
    // Last: freeing the slot may remove a drained engine, and with it its series, which must not come back.
    this.release(backend);
  }

  private async call(backend: BackendState, req: InferenceRequestV1, timeoutMs: number): Promise<Completion> {
    const client = this.membership.client(backend.id);
    if (!client) throw new BackendError('unknown', backend.id);
    const started = this.callStarted(backend);
    const deadline = new CallSignal(timeoutMs);
    try {
      const out = await client.complete(req, deadline.signal);
      backend.observeLatency((performance.now() - started) / 1000, out.tokensOut);
      this.callEnded(backend, started);
      return out;
    } catch (e) {
      const err = e instanceof BackendError ? e : new BackendError('unknown', backend.id);
      this.callEnded(backend, started, err);
      throw err;
    } finally {
      deadline.dispose();
    }
  }
}
