/**
 * A GPU pool that stays up, and metrics where they exist: pod templates that do not change with the chart version,
 * shutdown that outlasts the longest generation, spread across GPU nodes, refusal of Multi-Attach set-ups, KEDA
 * scale-down slower than a model load, per-pod discovery Service, consistent proxy concurrency, a ServiceMonitor that
 * scrapes only what serves /metrics.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { IService } from 'kubernetes-models/v1/Service' with { 'resolution-mode': 'import' };
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment' with { 'resolution-mode': 'import' };
import type { IJob } from 'kubernetes-models/batch/v1/Job' with { 'resolution-mode': 'import' };
import {
  chartDir,
  customResources,
  ensureHelm,
  render,
  renderError,
  repoRoot,
  validateObject,
  type K8sObject,
} from './helm';
import { parseBackends } from '@app/config';
import { componentOf, configMapOf, deploymentOf, mainContainer, ofKind, one } from './objects';

const production = path.join(chartDir, 'examples', 'values-production.yaml');
const pool = { 'modelPool.enabled': 'true' };
let helmBin = '';
let objects: K8sObject[] = [];

beforeAll(async () => {
  helmBin = ensureHelm();
  objects = await render(helmBin, { valuesFiles: [production] });
  for (const o of objects) if (!customResources.has(o.kind)) await validateObject(o);
});

describe('pool pod template', () => {
  it('carries no label that changes with the chart (on any workload)', () => {
    const templates = [...ofKind<IDeployment>(objects, 'Deployment'), ...ofKind<IJob>(objects, 'Job')].map((w) => ({
      owner: `${w.kind}/${w.metadata?.name}`,
      labels: w.spec?.template.metadata?.labels ?? {},
    }));
    expect(templates.length).toBeGreaterThanOrEqual(5);
    for (const { owner, labels } of templates) {
      expect({ owner, chart: labels['helm.sh/chart'], version: labels['app.kubernetes.io/version'] }).toEqual({
        owner,
        chart: undefined,
        version: undefined,
      });
    }
  });

  it('is unchanged by a chart and appVersion bump, so the upgrade restarts no GPU replica', async () => {
    const bumped = mkdtempSync(path.join(tmpdir(), 'meditron-chart-'));
    try {
      cpSync(chartDir, bumped, { recursive: true, filter: (src) => !src.includes(`${path.sep}tests`) });
      const chartYaml = path.join(bumped, 'Chart.yaml');
      writeFileSync(
        chartYaml,
        readFileSync(chartYaml, 'utf8')
          .replace(/^version: .*$/m, 'version: 9.9.9')
          .replace(/^appVersion: .*$/m, 'appVersion: 9.9.9'),
      );
      const after = await render(helmBin, { chart: bumped, valuesFiles: [production] });
      const before = deploymentOf(objects, 'vllm');
      const now = deploymentOf(after, 'vllm');
      expect(now.metadata?.labels?.['helm.sh/chart']).toBe('meditron-cds-9.9.9');
      expect(now.spec?.template).toEqual(before.spec?.template);
    } finally {
      rmSync(bumped, { recursive: true, force: true });
    }
  });
});

describe('shutdown', () => {
  it('keeps in-flight generations alive past the longest one, inside the grace period', () => {
    const pod = deploymentOf(objects, 'vllm').spec?.template.spec;
    const sleep = mainContainer(objects, 'vllm').lifecycle?.preStop?.exec?.command;
    expect(sleep?.[0]).toBe('sleep');
    const seconds = Number(sleep?.[1]);
    const longest = Number(configMapOf(objects, 'inference-proxy').BACKEND_TIMEOUT_MS) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(longest);
    expect(pod?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(seconds + 30);
  });

  it.each([
    [{ ...pool, 'modelPool.preStopSleepSeconds': '60' }, /must cover the longest generation/],
    [{ ...pool, 'modelPool.terminationGracePeriodSeconds': '130' }, /must exceed the preStop sleep/],
  ])('refuses %j', async (set, message) => {
    expect(await renderError(helmBin, { set })).toMatch(message);
  });
});

describe('placement and disks', () => {
  it('spreads replicas over GPU nodes (and zones), preferring distinct nodes', () => {
    const pod = deploymentOf(objects, 'vllm').spec?.template.spec;
    const keys = pod?.topologySpreadConstraints?.map((c) => c.topologyKey);
    expect(keys).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    const anti = pod?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0];
    expect(anti?.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(anti?.podAffinityTerm.labelSelector?.matchLabels?.['app.kubernetes.io/component']).toBe('vllm');
  });

  it.each([
    { ...pool, 'modelPool.replicaCount': '2' },
    { ...pool, 'modelPool.keda.enabled': 'true' },
  ])('refuses more than one replica on a ReadWriteOnce disk: %j', async (set) => {
    expect(await renderError(helmBin, { set })).toMatch(/Multi-Attach/);
  });

  it('allows them on ReadWriteMany, ReadOnlyMany or emptyDir', async () => {
    for (const set of [
      { ...pool, 'modelPool.replicaCount': '2', 'modelPool.cache.accessModes[0]': 'ReadWriteMany' },
      { ...pool, 'modelPool.replicaCount': '2', 'modelPool.cache.accessModes[0]': 'ReadOnlyMany' },
      { ...pool, 'modelPool.replicaCount': '2', 'modelPool.cache.type': 'emptyDir' },
    ]) {
      expect(deploymentOf(await render(helmBin, { set }), 'vllm').spec?.replicas).toBe(2);
    }
  });
});

describe('KEDA', () => {
  const scaled = (component: string): Record<string, unknown> =>
    one(
      ofKind<K8sObject>(objects, 'ScaledObject').filter((s) => componentOf(s) === component),
      `${component} ScaledObject`,
    ).spec as Record<string, unknown>;

  it('slows the pool scale-in down to one replica per period after a window of at least a model load', () => {
    const spec = scaled('vllm') as {
      advanced?: { horizontalPodAutoscalerConfig?: { behavior?: { scaleDown?: Record<string, unknown> } } };
    };
    const scaleDown = spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown;
    const probe = mainContainer(objects, 'vllm').startupProbe;
    const loadSeconds = (probe?.periodSeconds ?? 0) * (probe?.failureThreshold ?? 0);
    expect(scaleDown?.stabilizationWindowSeconds).toBeGreaterThanOrEqual(Math.min(loadSeconds, 3600));
    expect(scaleDown?.policies).toEqual([{ type: 'Pods', value: 1, periodSeconds: 600 }]);
  });

  it('refuses a stabilisation window shorter than the model load', async () => {
    const stderr = await renderError(helmBin, {
      valuesFiles: [production],
      set: { 'modelPool.keda.scaleDownStabilizationSeconds': '300' },
    });
    expect(stderr).toMatch(/at least the model's load time/);
  });

  it('qualifies bare broker names with the release namespace (KEDA resolves from its own)', async () => {
    const withKeda = await render(helmBin, { set: { 'inferenceProxy.keda.enabled': 'true' } });
    const spec = one(ofKind<K8sObject>(withKeda, 'ScaledObject'), 'ScaledObject').spec as {
      triggers: Array<{ metadata: Record<string, string> }>;
    };
    expect(spec.triggers[0]?.metadata.bootstrapServers).toBe('kafka.meditron.svc:9092');
    expect(JSON.stringify(scaled('inference-proxy'))).toContain(
      '"bootstrapServers":"kafka-0.kafka.internal:9093,kafka-1.kafka.internal:9093,kafka-2.kafka.internal:9093"',
    );
  });
});

describe('engines and the proxy', () => {
  it('publishes a headless Service with one address per ready engine', () => {
    const headless = one(
      ofKind<IService>(objects, 'Service').filter((s) => s.spec?.clusterIP === 'None'),
      'headless Service',
    );
    expect(headless.metadata?.name).toBe('cds-meditron-cds-vllm-engines');
    expect(headless.spec?.publishNotReadyAddresses).toBe(false);
    expect(headless.spec?.selector).toEqual(deploymentOf(objects, 'vllm').spec?.selector.matchLabels);
  });

  it('points the proxy at the headless Service with per-pod discovery, in a form the proxy parses', () => {
    const cm = configMapOf(objects, 'inference-proxy');
    expect(cm.INFERENCE_BACKENDS).toBe('vllm=dns+http://cds-meditron-cds-vllm-engines:8000/v1');
    expect(parseBackends(cm.INFERENCE_BACKENDS ?? '')).toEqual({
      ok: true,
      backends: [
        {
          id: 'vllm@dns+cds-meditron-cds-vllm-engines:8000',
          kind: 'vllm',
          baseUrl: 'http://cds-meditron-cds-vllm-engines:8000/v1',
          discovery: 'dns',
        },
      ],
    });
    expect(cm.BACKEND_DISCOVERY_INTERVAL_MS).toBe('5000');
    // The proxy dials each pod address at the URL's port: it must be the engine's own port, not only the Service's.
    const http = mainContainer(objects, 'vllm').ports?.find((p) => p.name === 'http');
    const parsed = parseBackends(cm.INFERENCE_BACKENDS ?? '');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(new URL(parsed.backends[0]!.baseUrl).port).toBe(String(http?.containerPort));
  });

  it('sizes the per-engine bound so the pool at its smallest runs each replica at its concurrency', async () => {
    // Production: KEDA keeps at least 2 engines, concurrency 16: 8 per engine.
    const cm = configMapOf(objects, 'inference-proxy');
    expect(cm.INFERENCE_CONCURRENCY).toBe('16');
    expect(cm.BACKEND_MAX_OUTSTANDING).toBe('8');
    const stderr = await renderError(helmBin, {
      valuesFiles: [production],
      set: { 'inferenceProxy.backendMaxOutstanding': '4' },
    });
    expect(stderr).toMatch(/\(4\) x 2 engine\(s\) is below inferenceProxy.concurrency \(16\)/);
    const sized = async (set: Record<string, string>): Promise<string | undefined> =>
      configMapOf(
        await render(helmBin, {
          set: { ...pool, 'modelPool.cache.type': 'emptyDir', 'inferenceProxy.concurrency': '16', ...set },
        }),
        'inference-proxy',
      ).BACKEND_MAX_OUTSTANDING;
    expect(await sized({ 'modelPool.replicaCount': '3' })).toBe('6');
    // KEDA may scale to zero: the bound still lets one engine take the whole concurrency.
    expect(await sized({ 'modelPool.keda.enabled': 'true', 'modelPool.keda.minReplicas': '0' })).toBe('16');
    const two = await render(helmBin, {
      set: {
        'inferenceProxy.backends': 'vllm=http://10.0.0.5:8000/v1\\,vllm=http://10.0.0.6:8000/v1',
        'inferenceProxy.concurrency': '16',
        'inferenceProxy.backendMaxOutstanding': '8',
      },
    });
    expect(configMapOf(two, 'inference-proxy').BACKEND_MAX_OUTSTANDING).toBe('8');
  });

  it('caps the connections to one engine at twice its bound by default, and refuses a cap below the bound', async () => {
    const cm = configMapOf(objects, 'inference-proxy');
    expect(cm.BACKEND_MAX_CONNECTIONS).toBe('16');
    const set = await render(helmBin, {
      valuesFiles: [production],
      set: { 'inferenceProxy.backendMaxConnections': '12' },
    });
    expect(configMapOf(set, 'inference-proxy').BACKEND_MAX_CONNECTIONS).toBe('12');
    const stderr = await renderError(helmBin, {
      valuesFiles: [production],
      set: { 'inferenceProxy.backendMaxConnections': '4' },
    });
    expect(stderr).toMatch(/backendMaxConnections \(4\) is below the per-engine bound backendMaxOutstanding \(8\)/);
  });
});

describe('ServiceMonitor', () => {
  /** Apps whose root module starts the metrics listener (GET /metrics on METRICS_PORT). */
  const servingMetrics = (): string[] =>
    ['gateway', 'cds-hooks', 'inference-proxy'].filter((app) =>
      readdirSync(path.join(repoRoot, 'apps', app, 'src'))
        .filter((f) => f.endsWith('.module.ts'))
        .some((f) =>
          /MetricsServerModule\.forRoot\(/.test(readFileSync(path.join(repoRoot, 'apps', app, 'src', f), 'utf8')),
        ),
    );
  const monitorSpec = () =>
    one(ofKind<K8sObject>(objects, 'ServiceMonitor'), 'ServiceMonitor').spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: Array<{ port: string; path: string }>;
    };
  const selected = (): IService[] =>
    ofKind<IService>(objects, 'Service').filter((s) =>
      Object.entries(monitorSpec().selector.matchLabels).every(([k, v]) => s.metadata?.labels?.[k] === v),
    );

  it('selects exactly the Services of apps that serve /metrics, and the engines', () => {
    expect(selected().map(componentOf).sort()).toEqual([...servingMetrics(), 'vllm'].sort());
    expect(servingMetrics()).toEqual(['gateway', 'cds-hooks', 'inference-proxy']);
  });

  it('scrapes only ports named metrics, which on each app is its metrics container port, not the app port', () => {
    expect(monitorSpec().endpoints.map((e) => e.port)).toEqual(['metrics']);
    for (const service of selected()) {
      const component = componentOf(service) ?? '';
      const port = service.spec?.ports?.find((p) => p.name === 'metrics');
      expect({ component, metrics: port !== undefined }).toEqual({ component, metrics: true });
      if (component === 'vllm') continue;
      expect(port?.targetPort).toBe('metrics');
      const containerPorts = mainContainer(objects, component).ports ?? [];
      const metrics = containerPorts.find((p) => p.name === 'metrics')?.containerPort;
      expect(metrics).toBe(Number(configMapOf(objects, component).METRICS_PORT));
      expect(metrics).not.toBe(containerPorts.find((p) => p.name === 'http')?.containerPort);
      expect(port?.port).toBe(metrics);
    }
  });

  it('leaves the metrics ports out of the Ingress', () => {
    const ingress = one(ofKind<K8sObject>(objects, 'Ingress'), 'Ingress');
    const backends = JSON.stringify(ingress.spec);
    expect(backends).toContain('"port":{"name":"http"}');
    expect(backends).not.toContain('metrics');
    const metricsPorts = ofKind<IService>(objects, 'Service').flatMap(
      (s) => s.spec?.ports?.filter((p) => p.name === 'metrics').map((p) => p.port) ?? [],
    );
    for (const port of metricsPorts) expect(backends).not.toContain(`"number":${port}`);
  });
});
