import { Agent, request, type Dispatcher } from 'undici';
import { activeTraceHeaders } from '@app/observability';

/** A backend's answer as it arrives: the body is a Node stream, read (or dumped) by the caller. */
export interface BackendReply {
  readonly status: number;
  /** The `content-type` header, null when the backend sent none. */
  readonly contentType: string | null;
  readonly body: Dispatcher.ResponseData['body'];
}

/**
 * One backend call's abort signal: aborted when its timeout passes or (if given) the caller's signal aborts. A
 * controller and one timer rather than `AbortSignal.any([caller, AbortSignal.timeout(ms)])`, whose composite-signal
 * bookkeeping (weak references, a finalization registry) was ~3 % of the facade's CPU. `dispose` once the call,
 * body included, is over: it clears the timer and stops following the caller.
 */
export class CallSignal {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private expired = false;
  private readonly onParentAbort = (): void => this.controller.abort(this.parent?.reason);

  constructor(
    timeoutMs: number,
    private readonly parent?: AbortSignal,
  ) {
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new DOMException('the backend call timed out', 'TimeoutError'));
    }, timeoutMs);
    // Like AbortSignal.timeout: a pending call timer alone does not keep the process up.
    this.timer.unref();
    if (parent?.aborted) this.controller.abort(parent.reason);
    else parent?.addEventListener('abort', this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The call's own timeout fired (whatever else happened). */
  get timedOut(): boolean {
    return this.expired;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }
}

/**
 * The HTTP client for model calls (the Kafka path's completions and the facade's relay): one keep-alive pool of at
 * most `maxConnections` connections per engine (undici's Agent keeps one Pool per origin); past it a call waits
 * for a free connection, inside its own timeout (the signal covers the wait). The pool already bounds a replica's
 * calls per engine (BACKEND_MAX_OUTSTANDING, facade streams included), so the cap sits above that and only ever
 * bites on sockets still closing after an aborted call. undici's `request` rather than `fetch`: the same HTTP/1.1
 * client without the WHATWG Request/Response and web stream objects each call would build (6-7 % of the proxy's
 * busy CPU as fetch). Health probes and scrapes keep `fetch` and its own connections: they never queue behind
 * model calls.
 */
export class BackendHttp {
  private readonly agent: Agent;

  constructor(readonly maxConnections: number) {
    this.agent = new Agent({ connections: maxConnections });
  }

  /**
   * POSTs a JSON body with the active trace context (the model server's own spans join the trace). Rejects when
   * the connection fails or `signal` aborts before the answer's head; once resolved, an abort destroys the body
   * stream (a read then throws). The caller must read or dump the body: an unread one holds its connection.
   */
  async postJson(url: string, body: string, signal: AbortSignal): Promise<BackendReply> {
    const res = await request(url, {
      method: 'POST',
      dispatcher: this.agent,
      headers: { 'content-type': 'application/json', ...activeTraceHeaders() },
      body,
      signal,
    });
    const type = res.headers['content-type'];
    return {
      status: res.statusCode,
      contentType: (Array.isArray(type) ? type[0] : type) ?? null,
      body: res.body,
    };
  }

  /** Lets calls in flight finish, then closes the connections. */
  close(): Promise<void> {
    return this.agent.close();
  }
}
