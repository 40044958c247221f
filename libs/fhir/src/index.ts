export * from './client/fhir-fetcher';
export * from './client/fhir-fetch-error';
export {
  describeFhirRequest,
  fhirBaseProblem,
  fhirBaseUrlSchema,
  isUnderBase,
  normaliseFhirBase,
  type FhirInteraction,
} from './client/fhir-url';
export * from './prefetch/prefetch-template';
export * from './prefetch/prefetch-gaps';
export * from './prefetch/resolve-prefetch';
export { importEsm } from './client/esm-import';
export { FhirModule } from './fhir.module';
export { FHIR_MODULE_OPTIONS, type FhirModuleOptions } from './fhir.module-definition';
export * from './prefetch/prefetch-resolver.service';
