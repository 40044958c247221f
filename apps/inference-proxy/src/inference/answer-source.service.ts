import type { InferenceRequestV1 } from '@app/contracts';
import type { BackendPool, PoolCompletion } from '../backends/backend-pool.service';
import type { ProxyMetrics } from '../metrics/proxy-metrics.service';
import type { ServedFrom } from './inference-record';
import { answerKey } from './request-key';
import { RequestCoalescer } from './request-coalescer';
import { ResultCache } from './result-cache';

export interface Answer {
  readonly completion: PoolCompletion;
  readonly servedFrom: ServedFrom;
}

/** Where an answer comes from: the cache, an identical request already in flight, or the backend pool. */
export class AnswerSource {
  private readonly coalescer = new RequestCoalescer<PoolCompletion>();

  constructor(
    private readonly pool: BackendPool,
    private readonly cache: ResultCache<PoolCompletion>,
    private readonly metrics: ProxyMetrics,
  ) {}

  async answer(req: InferenceRequestV1, deadlineMs: number): Promise<Answer> {
    const key = answerKey(req);
    if (key === null) return { completion: await this.pool.complete(req, deadlineMs), servedFrom: 'backend' };
    const cached = this.cache.get(key);
    if (cached) {
      this.metrics.answerShared('cache');
      return { completion: cached, servedFrom: 'cache' };
    }
    const { value, shared } = await this.coalescer.run(key, async () => {
      const out = await this.pool.complete(req, deadlineMs);
      this.cache.set(key, out);
      return out;
    });
    if (shared) this.metrics.answerShared('coalesced');
    return { completion: value, servedFrom: shared ? 'coalesced' : 'backend' };
  }
}
