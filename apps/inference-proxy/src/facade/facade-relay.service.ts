import { once } from 'node:events';
import { Logger } from '@nestjs/common';
import type { AuditWriter } from '@app/audit';
import type { Response } from 'express';
import { z } from 'zod';
import type { BackendKind } from '@app/config';
import { BackendError } from '../backends/backend-error';
import type { BackendForwarder, Forwarded } from '../backends/backend-forwarder';
import type { FacadeRequest } from './facade-auth.guard';
import { reportedUsage, type FacadeAdmission, type FacadeGovernance, type FacadeRefusal } from './facade-governance';
import { planFacadeBody } from './facade-response-format';
import { errorKind } from '@app/observability';

/** Header with the proxy's own time in milliseconds (everything but the backend's). */
export const OVERHEAD_HEADER = 'x-meditron-proxy-overhead-ms';

const generationBody = z.looseObject({ model: z.string().min(1), stream: z.boolean().optional() });

const ERROR_TYPES: Readonly<Record<number, string>> = {
  429: 'RateLimitError',
  503: 'ServiceUnavailableError',
};

function openAiError(res: Response, status: number, message: string, param: string | null = null): void {
  res.status(status).json({
    error: { message, type: ERROR_TYPES[status] ?? 'BadRequestError', param, code: status },
  });
}

const ms = (n: number): string => n.toFixed(2);

/** The backend's content type with `charset=utf-8` (JSON is UTF-8; what Express's send() set before). */
function utf8ContentType(type: string | null): string {
  if (type === null) return 'application/json; charset=utf-8';
  return `${type.replace(/;\s*charset=[^;]*/i, '')}; charset=utf-8`;
}

/**
 * Relays one OpenAI-compatible generation request over the pool, streamed or not, byte for byte. The
 * prompt is never logged; the audit event names the caller's key hash, the backend and the status.
 */
export class FacadeRelay {
  private readonly logger = new Logger(FacadeRelay.name);

  constructor(
    private readonly forwarder: BackendForwarder,
    private readonly audit: AuditWriter,
    private readonly model: string,
    private readonly kinds: ReadonlySet<BackendKind>,
    private readonly governance: FacadeGovernance,
  ) {}

  async relay(path: string, req: FacadeRequest, res: Response): Promise<void> {
    const arrived = performance.now();
    const parsed = generationBody.safeParse(req.body);
    if (!parsed.success) return openAiError(res, 400, 'the body must be an OpenAI request with a model');
    if (parsed.data.model !== this.model)
      return openAiError(res, 404, `The model \`${parsed.data.model}\` does not exist.`);
    const caller = req.facadeCaller ?? 'anonymous';
    const admission = this.governance.admit(caller, parsed.data);
    if (!admission.ok) return this.refuse(req, res, path, admission);
    const plan = planFacadeBody(path, admission.body, this.kinds);
    if (!plan.ok) return openAiError(res, 400, plan.message);
    const stream = parsed.data.stream === true;
    const left = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) left.abort();
    });
    let fwd: Forwarded;
    try {
      fwd = await this.forwarder.forward(path, (b) => plan.bodyFor(b.target.kind, b.facts), left.signal);
    } catch (e) {
      const code = e instanceof BackendError ? e.code : 'unknown';
      openAiError(res, 503, 'no backend could serve the request; retry later');
      this.governance.settle(caller, admission, 0);
      this.record(req, { path, stream, backend: null, status: 503, errorCode: code, overheadMs: null, admission });
      return;
    }
    const backendOk = fwd.response.status >= 200 && fwd.response.status <= 299;
    if (!stream) {
      let bytes: Buffer;
      try {
        bytes = Buffer.from(await fwd.response.body.arrayBuffer());
      } catch {
        fwd.done(false);
        return openAiError(res, 503, 'the backend dropped the connection');
      }
      const backendMs = performance.now() - fwd.sentAt;
      fwd.done(backendOk);
      this.governance.settle(caller, admission, backendOk ? reportedUsage(bytes.toString('utf8')) : 0);
      const overhead = performance.now() - arrived - backendMs;
      // The backend's bytes as they came, with plain node writes: Express's send() would decode and re-encode
      // them, and hash them for an ETag no POST answer is ever revalidated with.
      res.writeHead(fwd.response.status, {
        'content-type': utf8ContentType(fwd.response.contentType),
        'content-length': bytes.length,
        [OVERHEAD_HEADER]: ms(overhead),
      });
      res.end(bytes);
      this.record(req, {
        path,
        stream,
        backend: fwd.backendId,
        status: fwd.response.status,
        errorCode: null,
        overheadMs: overhead,
        admission,
      });
      return;
    }
    const overhead = fwd.sentAt - arrived;
    res.status(fwd.response.status);
    res.setHeader('content-type', fwd.response.contentType ?? 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader(OVERHEAD_HEADER, ms(overhead));
    res.flushHeaders();
    let ok = true;
    try {
      // Backpressure: a caller reading slower than the backend generates stops the backend's socket being read
      // (TCP then slows the backend) instead of buffering the stream here. The caller leaving aborts `left`,
      // which ends the wait and destroys the backend's body.
      for await (const chunk of fwd.response.body as AsyncIterable<Buffer>)
        if (!res.write(chunk)) await once(res, 'drain', { signal: left.signal });
    } catch {
      // Cut mid-stream (backend gone or caller left): end what was sent; OpenAI clients see no [DONE].
      ok = false;
    }
    fwd.done(ok);
    res.end();
    this.record(req, {
      path,
      stream,
      backend: fwd.backendId,
      status: ok ? fwd.response.status : 502,
      errorCode: ok ? null : 'stream_cut',
      overheadMs: overhead,
      admission,
    });
  }

  /**
   * 400 naming the field, or 429 with Retry-After; audited (429s once per flood, as the gateway does). Here, not
   * in an exception filter: the relay owns the response (`@Res()`, streaming) and the flood state.
   */
  private refuse(req: FacadeRequest, res: Response, path: string, refusal: FacadeRefusal): void {
    if (refusal.retryAfterS !== undefined) res.setHeader('Retry-After', String(refusal.retryAfterS));
    openAiError(res, refusal.status, refusal.message, refusal.param);
    if (refusal.status === 429 && !refusal.floodStarted) return;
    this.write(req, 'facade.refused', 'failure', {
      path,
      status: refusal.status,
      reason: refusal.reason,
      param: refusal.param,
    });
  }

  private record(
    req: FacadeRequest,
    d: {
      path: string;
      stream: boolean;
      backend: string | null;
      status: number;
      errorCode: string | null;
      overheadMs: number | null;
      admission: FacadeAdmission;
    },
  ): void {
    this.write(req, 'facade.generation', d.status < 400 ? 'success' : 'failure', {
      path: d.path,
      stream: d.stream,
      backend: d.backend,
      status: d.status,
      errorCode: d.errorCode,
      overheadMs: d.overheadMs === null ? null : Number(ms(d.overheadMs)),
      reservedTokens: d.admission.reserved,
      ...(d.admission.priorityStripped ? { priorityStripped: true } : {}),
    });
  }

  private write(
    req: FacadeRequest,
    action: string,
    outcome: 'success' | 'failure',
    detail: Record<string, string | number | boolean | null>,
  ): void {
    // Off the response path; a failed audit write is logged, the answer has already gone.
    this.audit
      .record({ action, outcome, service: 'inference-proxy', actor: req.facadeCaller ?? null, detail })
      .catch((e: unknown) => this.logger.error(`facade audit write failed: ${errorKind(e)}`));
  }
}
