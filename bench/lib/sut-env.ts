/**
 * The environment every benchmark and probe gives the system under test: local ports chosen by the OS, and the
 * production limits that would otherwise be the first thing measured lifted (each one says why).
 */
export function benchSutEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    ...process.env,
    NODE_ENV: 'production',
    GATEWAY_PORT: '0',
    CDS_HOOKS_PORT: '0',
    INFERENCE_PROXY_PORT: '0',
    // Each app's metrics listener on a free port (read for the idle check and the shed count).
    METRICS_PORT: '0',
    BIND_HOST: '127.0.0.1',
    // A per-client rate limit (default 20/s) would be the first thing measured: lifted for the benchmark.
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
    // Likewise the per-source limit before authentication (default 50/s): every benchmark call comes from 127.0.0.1.
    EDGE_RATE_LIMIT_PER_SECOND: '100000',
    EDGE_RATE_LIMIT_BURST: '100000',
    EDGE_MAX_CONNECTIONS_PER_SOURCE: '100000',
    // The double has no GPU to protect: let the proxy send it everything (defaults 4 / 16 / 8 protect a real pool).
    INFERENCE_CONCURRENCY: '256',
    INFERENCE_QUEUE_CAPACITY: '10000',
    BACKEND_MAX_OUTSTANDING: '1024',
    ...extra,
  };
}
