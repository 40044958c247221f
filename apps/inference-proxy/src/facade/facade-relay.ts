import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import type { BackendKind } from '@app/config';
import { BackendError } from '../backends/backend-error';
import type { BackendForwarder, Forwarded } from '../backends/backend-forwarder';
import type { ProxyAudit } from '../inference/proxy-audit';
import type { FacadeRequest } from './facade-auth.guard';
import { planFacadeBody } from './facade-response-format';

/** Header with the proxy's own time in milliseconds (everything but the backend's). */
export const OVERHEAD_HEADER = 'x-meditron-proxy-overhead-ms';

const generationBody = z.looseObject({ model: z.string().min(1), stream: z.boolean().optional() });

function openAiError(res: Response, status: number, message: string): void {
  res.status(status).json({
    error: {
      message,
      type: status === 503 ? 'ServiceUnavailableError' : 'BadRequestError',
      param: null,
      code: status,
    },
  });
}

const ms = (n: number): string => n.toFixed(2);

/**
 * Relays one OpenAI-compatible generation request over the pool, streamed or not, byte for byte. The
 * prompt is never logged; the audit event names the caller's key hash, the backend and the status.
 */
export class FacadeRelay {
  private readonly logger = new Logger(FacadeRelay.name);

  constructor(
    private readonly forwarder: BackendForwarder,
    private readonly audit: ProxyAudit,
    private readonly model: string,
    private readonly kinds: ReadonlySet<BackendKind>,
  ) {}

  async relay(path: string, req: FacadeRequest, res: Response): Promise<void> {
    const arrived = performance.now();
    const parsed = generationBody.safeParse(req.body);
    if (!parsed.success) return openAiError(res, 400, 'the body must be an OpenAI request with a model');
    if (parsed.data.model !== this.model)
      return openAiError(res, 404, `The model \`${parsed.data.model}\` does not exist.`);
    const plan = planFacadeBody(path, parsed.data, this.kinds);
    if (!plan.ok) return openAiError(res, 400, plan.message);
    const stream = parsed.data.stream === true;
    const caller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) caller.abort();
    });
    let fwd: Forwarded;
    try {
      fwd = await this.forwarder.forward(path, (b) => plan.bodyFor(b.target.kind, b.facts), caller.signal);
    } catch (e) {
      const code = e instanceof BackendError ? e.code : 'unknown';
      openAiError(res, 503, 'no backend could serve the request; retry later');
      this.record(req, { path, stream, backend: null, status: 503, errorCode: code, overheadMs: null });
      return;
    }
    if (!stream) {
      let text: string;
      try {
        text = await fwd.response.text();
      } catch {
        fwd.done(false);
        return openAiError(res, 503, 'the backend dropped the connection');
      }
      const backendMs = performance.now() - fwd.sentAt;
      fwd.done(fwd.response.ok);
      const overhead = performance.now() - arrived - backendMs;
      res
        .status(fwd.response.status)
        .setHeader('content-type', fwd.response.headers.get('content-type') ?? 'application/json')
        .setHeader(OVERHEAD_HEADER, ms(overhead))
        .send(text);
      this.record(req, {
        path,
        stream,
        backend: fwd.backendId,
        status: fwd.response.status,
        errorCode: null,
        overheadMs: overhead,
      });
      return;
    }
    const overhead = fwd.sentAt - arrived;
    res.status(fwd.response.status);
    res.setHeader('content-type', fwd.response.headers.get('content-type') ?? 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader(OVERHEAD_HEADER, ms(overhead));
    res.flushHeaders();
    let ok = true;
    try {
      if (fwd.response.body) for await (const chunk of fwd.response.body) res.write(chunk);
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
    },
  ): void {
    // Off the response path; a failed audit write is logged, the answer has already gone.
    this.audit
      .record({
        action: 'facade.generation',
        outcome: d.status < 400 ? 'success' : 'failure',
        service: 'inference-proxy',
        actor: req.facadeCaller ?? null,
        detail: {
          path: d.path,
          stream: d.stream,
          backend: d.backend,
          status: d.status,
          errorCode: d.errorCode,
          overheadMs: d.overheadMs === null ? null : Number(ms(d.overheadMs)),
        },
      })
      .catch((e: unknown) =>
        this.logger.error(`facade audit write failed: ${e instanceof Error ? e.message : 'error'}`),
      );
  }
}
