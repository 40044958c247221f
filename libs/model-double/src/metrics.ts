import type { EngineGauges } from './scheduler';
import type { DoubleFlavour } from './types';

/** Prometheus text exposition (format 0.0.4) with the gauge names the real servers use. */

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function gauge(name: string, help: string, labels: string, value: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name}${labels} ${value}\n`;
}

/** Python's prometheus_client (vLLM) prints floats: 1 -> "1.0". */
function pyFloat(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

export function renderMetrics(flavour: DoubleFlavour, model: string, g: EngineGauges): string {
  if (flavour === 'tgi') {
    return (
      gauge('tgi_queue_size', 'Requests waiting in the queue', '', String(g.waiting)) +
      gauge('tgi_batch_current_size', 'Requests in the current batch', '', String(g.running))
    );
  }
  const labels = `{model_name="${escapeLabel(model)}"}`;
  return (
    gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', labels, pyFloat(g.running)) +
    gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', labels, pyFloat(g.waiting)) +
    gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', labels, pyFloat(g.kvCacheUsage))
  );
}
