import { Injectable } from '@nestjs/common';
import type { ClinicalSummary } from './clinical-summary';
import type { Json } from './fhir-values';
import type { PrefetchSource } from './sources';
import { summarize } from './summarize';

/** `summarize` as a provider: the de-identified summary of one call's data, the same for every profile. */
@Injectable()
export class Summarizer {
  summarize(
    data: Readonly<Record<string, unknown>>,
    now: Date,
    hookResources: ReadonlyArray<Json>,
    source: PrefetchSource,
  ): ClinicalSummary {
    return summarize(data, now, hookResources, source);
  }
}
