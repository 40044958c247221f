import { Module } from '@nestjs/common';
import { PrefetchService } from './prefetch.service';

/** Prefetch checks and the FHIR fallback for what the EHR did not send. */
@Module({
  providers: [PrefetchService],
  exports: [PrefetchService],
})
export class PrefetchModule {}
