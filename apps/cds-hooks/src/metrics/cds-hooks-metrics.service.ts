import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { PrefetchFetchAudit } from '@app/fhir';
import { METRICS_REGISTRY } from '@app/observability';

/** How a hook call ended: cards, no cards (nothing found, shadow mode or past the budget), refused (4xx), error. */
export type HookOutcome = 'cards' | 'no_cards' | 'refused' | 'error';

const ANSWER_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 8, 10];

/**
 * cds-hooks' metrics. Label values come from closed sets only: service ids of the catalog (an unknown id is
 * `unknown`), outcome enums and FHIR interaction kinds; never a patient, server or query value.
 */
@Injectable()
export class CdsHooksMetrics {
  private readonly calls: Counter<'service' | 'outcome'>;
  private readonly latency: Histogram<'service' | 'outcome'>;
  private readonly fallbackCalls: Counter<'interaction' | 'outcome'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.calls = new Counter({
      name: 'meditron_cds_hook_calls_total',
      help: 'Hook calls answered, by service id and outcome.',
      labelNames: ['service', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'meditron_cds_hook_answer_duration_seconds',
      help: 'From hook call received to answer sent, by service id and outcome.',
      labelNames: ['service', 'outcome'],
      buckets: ANSWER_BUCKETS,
      registers,
    });
    this.fallbackCalls = new Counter({
      name: 'meditron_cds_prefetch_fallback_calls_total',
      help: 'FHIR calls made to fill prefetch gaps, by interaction (read, search-type) and outcome (success or a fetch error code).',
      labelNames: ['interaction', 'outcome'],
      registers,
    });
  }

  /** `service` must be a catalog id (the caller checks); outcome from HookOutcome. */
  hookAnswered(service: string, outcome: HookOutcome, seconds: number): void {
    this.calls.inc({ service, outcome });
    this.latency.observe({ service, outcome }, seconds);
  }

  fallbackCall(fetch: Pick<PrefetchFetchAudit, 'interaction' | 'outcome'>): void {
    this.fallbackCalls.inc({ interaction: fetch.interaction, outcome: fetch.outcome });
  }
}
