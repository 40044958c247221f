import { Module } from '@nestjs/common';
import { FhirAllowList } from './fhir-allow-list.service';
import { PrefetchService } from './prefetch.service';

/** Prefetch checks and the FHIR fallback for what the EHR did not send. */
@Module({
  providers: [FhirAllowList, PrefetchService],
  exports: [PrefetchService],
})
export class PrefetchModule {}
