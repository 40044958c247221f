import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { ClientRegistryCache } from '@app/clients';
import { PrefetchResolver, type PrefetchFetchAudit } from '@app/fhir';
import type { PrefetchSource } from '@app/prompts';
import type { CdsServiceDefinition } from '../discovery/service-catalog';
import { HookRefusalException } from '../errors/hook-refusal.exception';
import { CdsHooksMetrics } from '../metrics/cds-hooks-metrics.service';
import type { HookRequest } from '../hooks/hook-request.schema';

export interface PrefetchCall {
  readonly service: CdsServiceDefinition;
  readonly hook: HookRequest;
  readonly userId: string;
  readonly clientId: string | undefined;
  readonly requestId: string;
  readonly patientRef: string;
}

/** What the prompt is built from: the data, and which keys were asked for and could not be had. */
export interface GatheredContext {
  readonly data: Record<string, unknown>;
  readonly source: PrefetchSource;
}

/**
 * Gathers the data a service's prompt needs: what the EHR prefetched, and the gaps from its FHIR server,
 * but only from a server allow-listed for the calling client (the request's `fhirServer` is untrusted).
 * The access token is passed to the FHIR calls and nowhere else.
 */
@Injectable()
export class PrefetchService {
  private readonly logger = new Logger(PrefetchService.name);

  constructor(
    private readonly audit: AuditWriter,
    private readonly clients: ClientRegistryCache,
    private readonly metrics: CdsHooksMetrics,
    private readonly resolver: PrefetchResolver,
  ) {}

  async gather(call: PrefetchCall): Promise<Record<string, unknown>> {
    return (await this.gatherContext(call)).data;
  }

  /**
   * The data and where it stands per key: the summary says "(none recorded)" only for keys the EHR answered,
   * and "not available" for keys asked for and not had (missing prefetch, fallback failed or not allowed).
   */
  async gatherContext(call: PrefetchCall): Promise<GatheredContext> {
    const { hook, service } = call;
    const fhirServerAllowed =
      !!call.clientId && !!hook.fhirServer && (await this.clients.allowsFhirServer(call.clientId, hook.fhirServer));
    const resolved = await this.resolver.resolve({
      templates: service.prefetch,
      hookContext: hook.context,
      userId: call.userId,
      ...(hook.prefetch ? { prefetch: hook.prefetch } : {}),
      ...(hook.fhirServer ? { fhirServer: hook.fhirServer } : {}),
      ...(hook.fhirAuthorization ? { accessToken: hook.fhirAuthorization.access_token } : {}),
      fhirServerAllowed,
      // A service's keys are few (at most ten or so) and each is one search: fetch them all at once, so a slow
      // server costs one timeout, not one per round.
      concurrency: Math.max(1, Object.keys(service.prefetch).length),
      requiredKeys: service.requiredPrefetch,
    });
    for (const fetch of resolved.audit) await this.recordFetch(call, fetch);
    if (hook.fhirServer && !fhirServerAllowed && resolved.unavailable.length > 0) {
      this.logger.warn(
        `fhirServer of request ${call.requestId} is not allow-listed for client ${call.clientId ?? '(none)'}; nothing fetched`,
      );
    }
    const missing = service.requiredPrefetch
      .filter((k) => !(k in resolved.data))
      .map((k) => ({ key: k, reason: resolved.unavailable.find((u) => u.key === k)?.reason ?? 'missing' }));
    if (missing.length > 0) {
      // Audited as a refusal by OperationOutcomeFilter, with the patient and the keys that could not be had.
      throw new HookRefusalException(
        'hook.refused',
        'prefetch_unavailable',
        HttpStatus.PRECONDITION_FAILED,
        missing.map((m) => ({
          code: 'incomplete' as const,
          diagnostics: `required prefetch "${m.key}" could not be obtained (${m.reason})`,
          expression: `prefetch.${m.key}`,
        })),
        service.id,
        {
          patientRef: call.patientRef,
          hookInstance: hook.hookInstance,
          detail: { keys: missing.map((m) => `${m.key}:${m.reason}`).join(',') },
        },
      );
    }
    return {
      data: resolved.data,
      source: { templates: service.prefetch, unavailable: resolved.unavailable.map((u) => u.key) },
    };
  }

  /** One FHIR call, shaped like IHE BALP Read / Query: which resource type and how it went, no query values. */
  private async recordFetch(call: PrefetchCall, fetch: PrefetchFetchAudit): Promise<void> {
    this.metrics.fallbackCall(fetch);
    await this.audit.record({
      action: fetch.interaction === 'read' ? 'fhir.read' : 'fhir.search',
      outcome: fetch.outcome === 'success' ? 'success' : 'failure',
      service: 'cds-hooks',
      clientId: call.clientId ?? null,
      patientRef: call.patientRef,
      requestId: call.requestId,
      hookInstance: call.hook.hookInstance,
      detail: {
        serviceId: call.service.id,
        prefetchKey: fetch.key,
        resourceType: fetch.resourceType,
        result: fetch.outcome,
        pages: fetch.pages,
      },
    });
  }
}
