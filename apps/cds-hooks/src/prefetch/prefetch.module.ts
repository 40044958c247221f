import { Module } from '@nestjs/common';
import { fhirModule } from '../library-modules';
import { PrefetchService } from './prefetch.service';

/** Prefetch checks and the FHIR fallback for what the EHR did not send. */
@Module({
  imports: [fhirModule],
  providers: [PrefetchService],
  exports: [PrefetchService],
})
export class PrefetchModule {}
