import { Inject, Injectable } from '@nestjs/common';
import { FHIR_MODULE_OPTIONS, type FhirModuleOptions } from '../fhir.module-definition';
import { resolvePrefetch, type ResolvedPrefetch, type ResolvePrefetchInput } from './resolve-prefetch';

/** One call's prefetch question; the FHIR bounds come from the module. */
export type PrefetchQuery = Omit<ResolvePrefetchInput, 'timeoutMs' | 'maxPages' | 'maxEntries'>;

/** `resolvePrefetch` with the bounds FhirModule was registered with. */
@Injectable()
export class PrefetchResolver {
  constructor(@Inject(FHIR_MODULE_OPTIONS) private readonly options: FhirModuleOptions) {}

  resolve(query: PrefetchQuery): Promise<ResolvedPrefetch> {
    return resolvePrefetch({
      ...query,
      timeoutMs: this.options.timeoutMs,
      maxPages: this.options.maxPages,
      ...(this.options.maxEntries !== undefined && { maxEntries: this.options.maxEntries }),
    });
  }
}
