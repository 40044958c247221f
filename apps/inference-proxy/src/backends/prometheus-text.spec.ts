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

describe('routing by latency (vLLM overload is queueing, not a 503)', () => {
  const target = (id: string) => ({ id, kind: 'vllm' as const, baseUrl: `http://${id}/v1` });

  it('steers away from a backend that has been slower per token, and forgets it over time', () => {
    const slow = new BackendState(target('slow'));
    const fast = new BackendState(target('fast'));
    const now = 1_000_000;
    fast.observeLatency(0.5, 20, now); // 25 ms/token
    slow.observeLatency(4, 20, now); // 200 ms/token: queued
    const pick = (at: number) => chooseBackend([slow, fast], { now: at, tried: new Set(), maxOutstanding: 8 })?.id;
    expect(pick(now)).toBe('fast');
    // Even with two calls outstanding on the fast one, the slow one's queueing weighs more.
    fast.outstanding = 2;
    expect(pick(now)).toBe('fast');
    // A minute without news: the penalty has faded and the slow one is tried again.
    expect(pick(now + 60_000)).toBe('slow');
  });

  it('ignores per-token noise below the floor (fast backends are equal)', () => {
    const a = new BackendState(target('a'));
    const b = new BackendState(target('b'));
    a.observeLatency(0.001, 1, 0);
    b.observeLatency(0.004, 1, 0);
    expect(loadScore(b, 0.001, 0) - loadScore(a, 0.001, 0)).toBeLessThan(0.2);
  });
});
