import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Agent, request } from 'undici';
import { INTERNAL_TOKEN_HEADER, InternalTokenSigner } from '@app/auth';
import { UPSTREAM_TIMEOUT_HEADER } from '@app/contracts';
import { failSpan, inSpan, outgoingTraceparent, SpanKind } from '@app/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';

export interface UpstreamReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/**
 * HTTP client for the cds-hooks app, with a timeout, the request id and trace context passed on, and a token minted
 * for this one call naming the verified client: cds-hooks believes nothing else about who called. Calls share a
 * keep-alive pool of at most CDS_HOOKS_MAX_CONNECTIONS connections; past it a call waits for a free one (within its
 * timeout) instead of opening another socket. The cap must stay above what cds-hooks admits (HOOK_MAX_IN_FLIGHT per
 * replica): a call waiting here is outside cds-hooks' deadline and its load shedding. undici's `request` rather than `fetch`: the same HTTP/1.1 client
 * without the WHATWG Request/Response and stream objects each call would build.
 */
@Injectable()
export class CdsHooksUpstream implements OnModuleDestroy {
  private readonly logger = new Logger(CdsHooksUpstream.name);

  private readonly signer: InternalTokenSigner;
  private readonly agent: Agent;
  /** The client span's server attributes, the same for every call (the URL is parsed once). */
  private readonly server: { readonly 'server.address': string; readonly 'server.port'?: number };
  private readonly timeoutHeader: string;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.signer = new InternalTokenSigner(config.INTERNAL_TOKEN_SECRET);
    this.agent = new Agent({ connections: config.CDS_HOOKS_MAX_CONNECTIONS });
    const base = new URL(config.CDS_HOOKS_URL);
    this.server = { 'server.address': base.hostname, ...(base.port ? { 'server.port': Number(base.port) } : {}) };
    this.timeoutHeader = String(config.UPSTREAM_TIMEOUT_MS);
  }

  /** Lets calls in flight finish, then closes the pool's connections. */
  async onModuleDestroy(): Promise<void> {
    await this.agent.close();
  }

  /** @param body JSON text the gateway has already checked (see JsonBodyReader), sent as it is; none for a GET. */
  forward(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    headers: { requestId: string; traceparent: string; clientId: string; serviceId: string | null },
  ): Promise<UpstreamReply> {
    // The path names a service id at most; HTTP client conventions (url.full, server.*, the status code).
    const attributes = {
      'http.request.method': method,
      'url.full': `${this.config.CDS_HOOKS_URL}${path}`,
      ...this.server,
    };
    return inSpan('meditron-gateway', method, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const reply = await this.send(method, path, body, {
        ...headers,
        traceparent: outgoingTraceparent(headers.traceparent),
      });
      span.setAttribute('http.response.status_code', reply.status);
      if (reply.status >= 500) failSpan(span, String(reply.status));
      return reply;
    });
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    headers: { requestId: string; traceparent: string; clientId: string; serviceId: string | null },
  ): Promise<UpstreamReply> {
    const token = await this.signer.sign({
      clientId: headers.clientId,
      requestId: headers.requestId,
      serviceId: headers.serviceId,
      method,
      path,
    });
    // One timer, cleared once the answer is read: AbortSignal.timeout's timer would outlive the call and fire later
    // (a DOMException built per call, for nothing).
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.config.UPSTREAM_TIMEOUT_MS);
    try {
      const res = await request(`${this.config.CDS_HOOKS_URL}${path}`, {
        method,
        dispatcher: this.agent,
        headers: {
          accept: 'application/json',
          'x-request-id': headers.requestId,
          traceparent: headers.traceparent,
          // cds-hooks answers (no cards, if need be) before this runs out, whatever its service budgets say.
          [UPSTREAM_TIMEOUT_HEADER]: this.timeoutHeader,
          // Built here from the verified caller only; nothing from the incoming request is copied.
          [INTERNAL_TOKEN_HEADER]: token,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body }),
        signal: abort.signal,
      });
      const contentType = res.headers['content-type'];
      return {
        status: res.statusCode,
        contentType: (Array.isArray(contentType) ? contentType[0] : contentType) ?? 'application/json',
        body: await res.body.text(),
      };
    } catch {
      this.logger.warn(`cds-hooks ${timedOut ? 'timed out' : 'unreachable'} for ${headers.requestId}`);
      return {
        status: timedOut ? 504 : 502,
        contentType: 'application/fhir+json',
        body: JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [
            {
              severity: 'error',
              code: timedOut ? 'timeout' : 'transient',
              diagnostics: timedOut ? 'CDS service timed out' : 'CDS service unavailable',
            },
          ],
        }),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
