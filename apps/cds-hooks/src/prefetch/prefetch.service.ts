import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { ClientRegistry } from '@app/clients';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import type { CdsServiceDefinition } from '../discovery/service-catalog';
import { HookException } from '../errors/hook-exception';
import type { HookRequest } from '../hooks/hook-request.schema';

export const CLIENT_REGISTRY = Symbol('CLIENT_REGISTRY');

export interface PrefetchCall {
  readonly service: CdsServiceDefinition;
  readonly hook: HookRequest;
  readonly clientId: string | undefined;
  readonly requestId: string;
  readonly patientRef: string;
}

/** Gathers the data a service's prompt needs: what the EHR prefetched, else from its FHIR server. */
@Injectable()
export class PrefetchService {
  constructor(
    private readonly audit: AuditWriter,
    @Inject(CLIENT_REGISTRY) private readonly registry: ClientRegistry | null,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  async gather(call: PrefetchCall): Promise<Record<string, unknown>> {
    const data = call.hook.prefetch ?? {};
    const missing = call.service.requiredPrefetch.filter((k) => data[k] === undefined || data[k] === null);
    if (missing.length > 0) {
      await this.refuse(call, 'prefetch_unavailable');
      throw new HookException(HttpStatus.PRECONDITION_FAILED, [
        ...missing.map((k) => ({ code: 'incomplete' as const, diagnostics: `required prefetch "${k}" could not be obtained`, expression: `prefetch.${k}` })),
      ]);
    }
    return data;
  }

  private async refuse(call: PrefetchCall, reason: string): Promise<void> {
    await this.audit.record({
      action: 'hook.refused',
      outcome: 'refused',
      service: 'cds-hooks',
      clientId: call.clientId ?? null,
      patientRef: call.patientRef,
      requestId: call.requestId,
      hookInstance: call.hook.hookInstance,
      detail: { serviceId: call.service.id, reason },
    });
  }
}
