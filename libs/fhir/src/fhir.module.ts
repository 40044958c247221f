import { Module } from '@nestjs/common';
import { FhirConfigurableModule } from './fhir.module-definition';
import { PrefetchResolver } from './prefetch/prefetch-resolver.service';

/**
 * FHIR for a CDS service: `PrefetchResolver` fills the prefetch gaps from the EHR's server within the bounds
 * given to `register` / `registerAsync`. The pure `resolvePrefetch` underneath stays usable on its own.
 */
@Module({
  providers: [PrefetchResolver],
  exports: [PrefetchResolver],
})
export class FhirModule extends FhirConfigurableModule {}
