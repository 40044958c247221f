import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { UPSTREAM_TIMEOUT_HEADER } from '@app/contracts';
import { internalCallerOf } from '../auth/internal-caller';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import type { CdsResponse } from '../cards/card';
import { ServiceCatalog } from '../discovery/service-catalog';
import { AdmissionControl } from './admission-control.service';
import { hookDeadline, upstreamLimit } from './hook-deadline';
import { HookDelivery } from './hook-delivery';
import { ShedRecorder, type ShedCall } from './shed-recorder.service';

const hookInstanceSchema = z.uuid();

/**
 * Load shedding on `POST /cds-services/{id}` (behind the auth and known-service guards): a call over the replica's
 * limits is answered `{"cards": []}` at once (CDS Hooks: a service with nothing to say returns no cards), and an
 * admitted call is answered `{"cards": []}` at its deadline if its handler is not done by then. The handler then
 * finishes in the background (its answer is stored and serves the next call) and keeps its admission until done.
 *
 * Called by the hook controller around its work rather than registered as a Nest interceptor: see HooksController
 * for why the hook route has no interceptors.
 */
@Injectable()
export class LoadShedding {
  private readonly logger = new Logger(LoadShedding.name);

  constructor(
    private readonly admission: AdmissionControl,
    private readonly recorder: ShedRecorder,
    private readonly catalog: ServiceCatalog,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  /**
   * Runs `work` for the call `req` if it is admitted, and answers with its result or, at the deadline, with no
   * cards. `work` gets the call's delivery (who answers the EHR: the handler or the deadline) and is never cut off.
   */
  serve(req: Request, work: (delivery: HookDelivery | undefined) => Promise<CdsResponse>): Promise<CdsResponse> {
    const arrival = Date.now();
    const service = this.catalog.find(String(req.params.id));
    // KnownServiceGuard runs first; a route without it is not shed.
    if (!service) return work(undefined);
    const call = shedCallOf(req, service.id);
    const ticket = this.admission.enter();
    if (!ticket.admitted) {
      this.recorder.record(call, ticket.reason);
      return Promise.resolve(noCards());
    }
    const deadline = hookDeadline(
      arrival,
      service.budgetMs ?? this.config.HOOK_DEADLINE_MS,
      req.headers[UPSTREAM_TIMEOUT_HEADER],
    );
    const hardLimit = upstreamLimit(arrival, req.headers[UPSTREAM_TIMEOUT_HEADER]);
    const delivery = new HookDelivery();
    return new Promise<CdsResponse>((resolve, reject) => {
      let answered = false;
      const answerEmpty = (): void => {
        if (answered) return;
        answered = true;
        this.recorder.record(call, 'deadline');
        resolve(noCards());
      };
      let timer = setTimeout(() => {
        if (answered) return;
        if (delivery.claim('deadline')) return answerEmpty();
        // The handler has its cards and is storing them: wait for it, but not past the gateway's own limit (a
        // 504 tells the EHR less than no cards; the audit trail then holds both hook.answered and hook.shed).
        if (hardLimit !== undefined) timer = setTimeout(answerEmpty, Math.max(0, hardLimit - Date.now()));
      }, deadline - Date.now());
      // The work runs to its end whoever answered, and only then is the admission released.
      const running = (async () => work(delivery))();
      running.then(
        (response) => {
          ticket.release();
          if (answered) return;
          answered = true;
          clearTimeout(timer);
          resolve(response);
        },
        (e: unknown) => {
          ticket.release();
          if (!answered) {
            answered = true;
            clearTimeout(timer);
            reject(e instanceof Error ? e : new Error(String(e)));
          } else {
            this.logger.warn(`hook call failed after its deadline answer: ${e instanceof Error ? e.name : 'error'}`);
          }
        },
      );
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
