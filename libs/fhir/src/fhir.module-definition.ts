import { ConfigurableModuleBuilder } from '@nestjs/common';

/** How far one hook call may go on an EHR's FHIR server: the same bounds for every server. */
export interface FhirModuleOptions {
  /** Upper bound on each HTTP call (every page of a search gets its own). */
  readonly timeoutMs: number;
  /** Most pages one search may take, the first included. */
  readonly maxPages: number;
  /** Most entries one search may return over all its pages. Default 1000. */
  readonly maxEntries?: number;
}

export const { ConfigurableModuleClass: FhirConfigurableModule, MODULE_OPTIONS_TOKEN: FHIR_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<FhirModuleOptions>().build();
