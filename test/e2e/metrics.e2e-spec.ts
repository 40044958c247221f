import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { scrape, seriesValue } from '../support/prometheus-scrape';
import { testStackEnv } from '../support/stack-env';
import { patientViewRequest, postHook } from './walking-skeleton.cases';

/**
 * Each app serves Prometheus metrics on its own listener (METRICS_PORT), apart from the app port an Ingress routes,
 * with label values from closed sets only: a hook run for a patient leaves no trace of the patient in any scrape.
 */
describe('metrics listeners of the three apps', () => {
  let stack: LocalStack;
  let patientId: string;
  let hookInstance: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'meditron-e2e-metrics-'));

  beforeAll(async () => {
    stack = await startLocalStack({ env: testStackEnv({}), dataDir, modelDoublePort: 0 });
    stack.modelDouble!.enqueueResponse(
      JSON.stringify({
        findings: [{ summary: 'Review renal dosing', indicator: 'info', detail: 'x', evidence: ['P1'] }],
      }),
    );
    const req = patientViewRequest();
    patientId = req.patientId;
    hookInstance = req.hookInstance;
    const res = await postHook(stack, req.body);
    expect(res.status).toBe(200);
    // One refused call: no token.
    const refused = await fetch(`${stack.gatewayUrl}/cds-services/meditron-patient-view`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req.body),
    });
    expect(refused.status).toBe(401);
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const apps = () =>
    [
      ['gateway', stack.gatewayUrl, stack.metricsUrls.gateway],
      ['cds-hooks', stack.cdsHooksUrl, stack.metricsUrls.cdsHooks],
      ['inference-proxy', stack.inferenceProxyUrl, stack.metricsUrls.inferenceProxy],
    ] as const;

  it('serves metrics only on the metrics listener, each app on its own port', async () => {
    const ports = new Set<string>();
    for (const [app, appUrl, metricsUrl] of apps()) {
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(metricsUrl).not.toBe(appUrl);
      ports.add(new URL(metricsUrl).port);
      const text = await scrape(metricsUrl);
      // Default process metrics, labelled by app.
      expect(seriesValue(text, 'process_resident_memory_bytes', { app })).toBeGreaterThan(0);
      expect(seriesValue(text, 'nodejs_eventloop_lag_p99_seconds', { app })).toBeGreaterThanOrEqual(0);
      // The app port has no metrics (it is what the Ingress routes).
      const onAppPort = await fetch(`${appUrl}/metrics`);
      expect(onAppPort.status).not.toBe(200);
      expect(await onAppPort.text()).not.toContain('process_resident_memory_bytes');
      // The metrics listener serves nothing else.
      expect((await fetch(`${metricsUrl}/health`)).status).toBe(404);
      expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(404);
    }
    expect(ports.size).toBe(3);
  });

  it('gateway: requests by route template and status, refusals by reason, the audit chain head', async () => {
    const text = await scrape(stack.metricsUrls.gateway);
    const route = { method: 'POST', route: '/cds-services/:id' };
    expect(seriesValue(text, 'meditron_gateway_http_requests_total', { ...route, status: '200' })).toBe(1);
    expect(seriesValue(text, 'meditron_gateway_http_requests_total', { ...route, status: '401' })).toBe(1);
    expect(seriesValue(text, 'meditron_gateway_http_request_duration_seconds_count', { ...route, status: '200' })).toBe(
      1,
    );
    expect(seriesValue(text, 'meditron_gateway_refusals_total', { reason: 'missing_token', status: '401' })).toBe(1);
    expect(seriesValue(text, 'meditron_audit_chain_head_id')).toBeDefined();
    expect(seriesValue(text, 'meditron_audit_chain_head_hash_prefix')).toBeDefined();
    // The raw path (which names the service the caller chose) is never a label.
    expect(text).not.toContain('route="/cds-services/meditron-patient-view"');
  });

  it('cds-hooks: hook calls by service and outcome, answer latency', async () => {
    const text = await scrape(stack.metricsUrls.cdsHooks);
    const labels = { service: 'meditron-patient-view', outcome: 'cards' };
    expect(seriesValue(text, 'meditron_cds_hook_calls_total', labels)).toBe(1);
    expect(seriesValue(text, 'meditron_cds_hook_answer_duration_seconds_count', labels)).toBe(1);
  });

  it('every app: its audit writer’s queue depth and capacity (the "audit writer queue near full" alert)', async () => {
    for (const [, , metricsUrl] of apps()) {
      const text = await scrape(metricsUrl);
      expect(seriesValue(text, 'meditron_audit_queue_depth')).toBeGreaterThanOrEqual(0);
      expect(seriesValue(text, 'meditron_audit_queue_capacity')).toBeGreaterThan(0);
    }
  });

  it('inference-proxy: its request metrics moved to the metrics listener under the same names', async () => {
    const text = await scrape(stack.metricsUrls.inferenceProxy);
    expect(seriesValue(text, 'meditron_proxy_requests_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(seriesValue(text, 'meditron_proxy_backend_healthy', { backend: 'vllm@double' })).toBe(1);
  });

  it('no scrape carries the patient id or the hook instance', async () => {
    for (const [, , metricsUrl] of apps()) {
      const text = await scrape(metricsUrl);
      expect(text).not.toContain(patientId);
      expect(text).not.toContain(hookInstance);
    }
  });
});
