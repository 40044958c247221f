import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request } from 'express';
import { Observable, of } from 'rxjs';
import { z } from 'zod';
import { UPSTREAM_TIMEOUT_HEADER } from '@app/contracts';
import { internalCallerOf } from '../auth/internal-caller';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import type { CdsResponse } from '../cards/card';
import { ServiceCatalog } from '../discovery/service-catalog';
import { AdmissionControl } from './admission-control.service';
import { hookDeadline, upstreamLimit } from './hook-deadline';
import { openDelivery } from './hook-delivery';
import { ShedRecorder, type ShedCall } from './shed-recorder.service';

const hookInstanceSchema = z.uuid();

/**
 * Load shedding on `POST /cds-services/{id}` (behind the auth and known-service guards): a call over the replica's
 * limits is answered `{"cards": []}` at once (CDS Hooks: a service with nothing to say returns no cards), and an
 * admitted call is answered `{"cards": []}` at its deadline if its handler is not done by then. The handler then
 * finishes in the background (its answer is stored and serves the next call) and keeps its admission until done.
 */
@Injectable()
export class LoadSheddingInterceptor implements NestInterceptor {
  private readonly logger = new Logger(LoadSheddingInterceptor.name);

  constructor(
    private readonly admission: AdmissionControl,
    private readonly recorder: ShedRecorder,
    private readonly catalog: ServiceCatalog,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler<CdsResponse>): Observable<CdsResponse> {
    const arrival = Date.now();
    const req = ctx.switchToHttp().getRequest<Request>();
    const service = this.catalog.find(String(req.params.id));
    // KnownServiceGuard runs first; a route without it is not shed.
    if (!service) return next.handle();
    const call = shedCallOf(req, service.id);
    const ticket = this.admission.enter();
    if (!ticket.admitted) {
      this.recorder.record(call, ticket.reason);
      return of(noCards());
    }
    const deadline = hookDeadline(
      arrival,
      service.budgetMs ?? this.config.HOOK_DEADLINE_MS,
      req.headers[UPSTREAM_TIMEOUT_HEADER],
    );
    const hardLimit = upstreamLimit(arrival, req.headers[UPSTREAM_TIMEOUT_HEADER]);
    const delivery = openDelivery(req);
    return new Observable<CdsResponse>((subscriber) => {
      let answered = false;
      const answerEmpty = (): void => {
        if (answered) return;
        answered = true;
        this.recorder.record(call, 'deadline');
        subscriber.next(noCards());
        subscriber.complete();
      };
      let timer = setTimeout(() => {
        if (answered) return;
        if (delivery.claim('deadline')) return answerEmpty();
        // The handler has its cards and is storing them: wait for it, but not past the gateway's own limit (a
        // 504 tells the EHR less than no cards; the audit trail then holds both hook.answered and hook.shed).
        if (hardLimit !== undefined) timer = setTimeout(answerEmpty, Math.max(0, hardLimit - Date.now()));
      }, deadline - Date.now());
      // Never unsubscribed from here: the handler's work runs to its end, and only then is the admission released.
      next.handle().subscribe({
        next: (response) => {
          if (answered) return;
          answered = true;
          clearTimeout(timer);
          subscriber.next(response);
          subscriber.complete();
        },
        error: (e: unknown) => {
          ticket.release();
          if (!answered) {
            answered = true;
            clearTimeout(timer);
            subscriber.error(e);
          } else {
            this.logger.warn(`hook call failed after its deadline answer: ${e instanceof Error ? e.name : 'error'}`);
          }
        },
        complete: () => ticket.release(),
      });
      return () => clearTimeout(timer);
    });
  }
}

function noCards(): CdsResponse {
  return { cards: [] };
}

function shedCallOf(req: Request, serviceId: string): ShedCall {
  const caller = internalCallerOf(req);
  const instance = hookInstanceSchema.safeParse((req.body as { hookInstance?: unknown } | undefined)?.hookInstance);
  return {
    serviceId,
    clientId: caller?.clientId ?? null,
    requestId: caller?.requestId ?? null,
    hookInstance: instance.success ? instance.data : null,
  };
}
