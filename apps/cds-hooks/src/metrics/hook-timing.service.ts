import { HttpException, Injectable } from '@nestjs/common';
import type { CdsResponse } from '../cards/card';
import { ServiceCatalog } from '../discovery/service-catalog';
import { CdsHooksMetrics, type HookOutcome } from './cds-hooks-metrics.service';

/**
 * Counts and times each hook call once answered. The service label is the route's id only when the catalog knows
 * it, so a caller cannot mint label values; a body the call refuses (validation runs inside the timed work) counts
 * as refused. Called by the hook controller around its work (see HooksController for why not an interceptor).
 */
@Injectable()
export class HookTiming {
  constructor(
    private readonly metrics: CdsHooksMetrics,
    private readonly catalog: ServiceCatalog,
  ) {}

  async time(serviceId: string, work: () => Promise<CdsResponse>): Promise<CdsResponse> {
    const start = process.hrtime.bigint();
    const service = this.catalog.find(serviceId) ? serviceId : 'unknown';
    const done = (outcome: HookOutcome): void =>
      this.metrics.hookAnswered(service, outcome, Number(process.hrtime.bigint() - start) / 1e9);
    try {
      const res = await work();
      done(res.cards.length > 0 ? 'cards' : 'no_cards');
      return res;
    } catch (e) {
      done(e instanceof HttpException && e.getStatus() < 500 ? 'refused' : 'error');
      throw e;
    }
  }
}
