import { readGauges } from './prometheus-text';
import { loadScore, chooseBackend } from './routing-policy';
import { BackendState } from './backend-state';

describe('readGauges', () => {
  it('sums a metric over its label sets and ignores comments and other metrics', () => {
    const text = [
      '# HELP vllm:num_requests_waiting Number of requests waiting.',
      '# TYPE vllm:num_requests_waiting gauge',
      'vllm:num_requests_waiting{model_name="a"} 2.0',
      'vllm:num_requests_waiting{model_name="b"} 3.0',
      'vllm:gpu_cache_usage_perc{model_name="a"} 0.5',
      'tgi_queue_size 7',
    ].join('\n');
    const g = readGauges(text, ['vllm:num_requests_waiting', 'vllm:gpu_cache_usage_perc']);
    expect(g.get('vllm:num_requests_waiting')).toBe(5);
    expect(g.get('vllm:gpu_cache_usage_perc')).toBe(0.5);
    expect(g.has('tgi_queue_size')).toBe(false);
  });
});

describe('routing policy', () => {
  const state = (id: string): BackendState => new BackendState({ id, kind: 'vllm', baseUrl: `http://${id}/v1` });

  it('prefers the backend with the shorter reported queue over equal outstanding counts', () => {
    const busy = state('busy');
    const idle = state('idle');
    busy.queue = { waiting: 4, running: 8, kvCacheUsage: 0.95 };
    idle.queue = { waiting: 0, running: 1, kvCacheUsage: 0.1 };
    expect(loadScore(busy)).toBeGreaterThan(loadScore(idle));
    expect(chooseBackend([busy, idle], { now: 0, tried: new Set(), maxOutstanding: 8 })?.id).toBe('idle');
  });

  it('skips cooling, ejected and full backends, and returns none when all are', () => {
    const cooling = state('cooling');
    const ejected = state('ejected');
    const full = state('full');
    cooling.coolDown(1_000, Date.now());
    ejected.healthy = false;
    full.outstanding = 2;
    expect(chooseBackend([cooling, ejected, full], { now: Date.now(), tried: new Set(), maxOutstanding: 2 })).toBe(
      undefined,
    );
  });
});
