import type { BackendState } from './backend-state';
import { backendRoot } from './backend-root';
import { PeriodicTask } from '@app/timing';
import { readGauges } from './prometheus-text';

const VLLM = {
  waiting: 'vllm:num_requests_waiting',
  running: 'vllm:num_requests_running',
  kv: 'vllm:kv_cache_usage_perc',
  kvOld: 'vllm:gpu_cache_usage_perc',
} as const;
const TGI = { queue: 'tgi_queue_size', batch: 'tgi_batch_current_size' } as const;

/**
 * Scrapes each backend's own queue figures from `/metrics`. A failed scrape clears them, so routing falls
 * back to this replica's outstanding count rather than trusting stale numbers.
 */
export class BackendMetricsScraper {
  private readonly task: PeriodicTask;

  constructor(
    private readonly backends: ReadonlyArray<BackendState>,
    intervalMs: number,
    private readonly timeoutMs: number,
  ) {
    this.task = new PeriodicTask(intervalMs, () => this.scrapeAll());
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  scrapeAll(): Promise<void> {
    return Promise.all(this.backends.map((b) => this.scrape(b))).then(() => undefined);
  }

  private async scrape(b: BackendState): Promise<void> {
    try {
      const res = await fetch(`${backendRoot(b.target)}/metrics`, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) {
        await res.body?.cancel();
        b.queue = null;
        return;
      }
      const text = await res.text();
      if (b.target.kind === 'tgi') {
        const g = readGauges(text, [TGI.queue, TGI.batch]);
        b.queue = { waiting: g.get(TGI.queue) ?? 0, running: g.get(TGI.batch) ?? 0, kvCacheUsage: null };
        return;
      }
      const g = readGauges(text, [VLLM.waiting, VLLM.running, VLLM.kv, VLLM.kvOld]);
      b.queue = {
        waiting: g.get(VLLM.waiting) ?? 0,
        running: g.get(VLLM.running) ?? 0,
        kvCacheUsage: g.get(VLLM.kv) ?? g.get(VLLM.kvOld) ?? null,
      };
    } catch {
      b.queue = null;
    }
  }
}
