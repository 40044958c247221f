/**
 * What each app exposes and to whom (issue 14): the monitoring namespace reaches the metrics ports only, never an
 * app port; the inference-proxy's facade port admits only the configured facade clients and never shares a rule
 * with /metrics; every app renders its HTTP server limits and the gateway its edge limits explicitly.
 */
import * as path from 'node:path';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy' with {
  'resolution-mode': 'import',
};
import { chartDir, customResources, ensureHelm, render, validateObject, type K8sObject } from './helm';
import { componentOf, configMapOf, ofKind, one, specOf, type NetworkPolicySpec } from './objects';

const apps = ['gateway', 'cds-hooks', 'inference-proxy'] as const;
const monitoring = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
const evalJobs = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'evaluation' } } };

let helmBin = '';
let production: K8sObject[] = [];
let withFacadeClients: K8sObject[] = [];

const policyOf = (objects: readonly K8sObject[], component: string): NetworkPolicySpec =>
  specOf(
    one(
      ofKind<INetworkPolicy>(objects, 'NetworkPolicy').filter((n) => componentOf(n) === component),
      `${component} NetworkPolicy`,
    ),
  );

/** Each ingress rule as (peers, ports). */
const rulesOf = (objects: readonly K8sObject[], component: string) =>
  (policyOf(objects, component).ingress ?? []).map((r) => ({
    from: r.from ?? [],
    ports: (r.ports ?? []).map((p) => Number(p.port)),
  }));

beforeAll(async () => {
  helmBin = ensureHelm();
  const values = path.join(chartDir, 'examples', 'values-production.yaml');
  [production, withFacadeClients] = await Promise.all([
    render(helmBin, { valuesFiles: [values] }),
    render(helmBin, {
      valuesFiles: [values],
      set: {
        'networkPolicy.facadeClients[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name': 'evaluation',
      },
    }),
  ]);
  for (const o of withFacadeClients) if (!customResources.has(o.kind)) await validateObject(o);
}, 120_000);

describe('app and metrics surfaces', () => {
  it.each(['production', 'with facade clients'] as const)(
    'admit monitoring to the metrics port of each app and to no app port (%s)',
    (name) => {
      const objects = name === 'production' ? production : withFacadeClients;
      for (const app of apps) {
        const config = configMapOf(objects, app);
        const metricsPort = Number(config['METRICS_PORT']);
        const appPort = Number(
          config['GATEWAY_PORT'] ?? config['CDS_HOOKS_PORT'] ?? config['INFERENCE_PROXY_PORT'] ?? NaN,
        );
        expect(metricsPort).not.toBe(appPort);
        const rules = rulesOf(objects, app);
        const monitoringPorts = rules
          .filter((r) => r.from.some((p) => JSON.stringify(p) === JSON.stringify(monitoring)))
          .flatMap((r) => r.ports);
        expect({ app, monitoringPorts }).toEqual({ app, monitoringPorts: [metricsPort] });
        // No rule opens the app port to monitoring, nor the metrics port to anyone else.
        for (const r of rules) {
          if (r.ports.includes(metricsPort)) expect(r.from).toEqual([monitoring]);
          if (r.ports.includes(appPort)) expect(r.from).not.toContainEqual(monitoring);
        }
      }
    },
  );

  it('keep the proxy facade closed by default and open it only to facadeClients, on the facade port only', () => {
    const facadePort = Number(configMapOf(production, 'inference-proxy')['INFERENCE_PROXY_PORT']);
    const metricsPort = Number(configMapOf(production, 'inference-proxy')['METRICS_PORT']);
    expect(rulesOf(production, 'inference-proxy')).toEqual([{ from: [monitoring], ports: [metricsPort] }]);
    expect(rulesOf(withFacadeClients, 'inference-proxy')).toEqual([
      { from: [monitoring], ports: [metricsPort] },
      { from: [evalJobs], ports: [facadePort] },
    ]);
  });

  it('render the HTTP server limits of every app and the gateway edge limits explicitly', () => {
    for (const app of apps) {
      expect(configMapOf(production, app)).toMatchObject({
        HTTP_HEADERS_TIMEOUT_MS: '20000',
        HTTP_REQUEST_TIMEOUT_MS: '30000',
        HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
        HTTP_MAX_CONNECTIONS: '2048',
      });
    }
    expect(configMapOf(production, 'gateway')).toMatchObject({
      EDGE_TRUSTED_PROXIES: 'uniquelocal',
      EDGE_RATE_LIMIT_PER_SECOND: '50',
      EDGE_RATE_LIMIT_BURST: '100',
      EDGE_MAX_CONNECTIONS_PER_SOURCE: '128',
    });
  });
});
