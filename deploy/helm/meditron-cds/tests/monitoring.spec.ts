/**
 * Alerts and dashboards as code: the PrometheusRule and the Grafana dashboard ConfigMap render behind their
 * switches, every alert has a runbook paragraph in deploy/helm/README.md, and every query is scoped to the release's
 * namespace. That the metrics they read exist is checked against running apps in test/e2e/alert-metrics.e2e-spec.ts.
 */
import { ensureHelm, render, renderError, type K8sObject } from './helm';
import {
  alertsOf,
  dashboardConfigMapOf,
  dashboardOf,
  metricNames,
  MONITORING_ON,
  panelQueries,
  runbooks,
} from './monitoring';

const ALERTS = [
  'MeditronNoHealthyBackend',
  'MeditronInferenceQueueNearBound',
  'MeditronConsumerLagHigh',
  'MeditronOutboxBacklog',
  'MeditronDeadLetters',
  'MeditronHookAnswersOverBudget',
  'MeditronAuditQueueNearFull',
  'MeditronAuditChainBroken',
  'MeditronAuditChainVerificationFailing',
  'MeditronInferencesExpiring',
];

let helmBin: string;
let defaults: K8sObject[];
let on: K8sObject[];

beforeAll(async () => {
  helmBin = ensureHelm();
  [defaults, on] = await Promise.all([render(helmBin), render(helmBin, { set: MONITORING_ON })]);
});

/** Every series selector of an expression: `metric{...}` (a bare metric name would read every namespace). */
function selectors(expr: string): string[] {
  return metricNames(expr).flatMap((name) =>
    [...expr.matchAll(new RegExp(`\\b${name}\\b(\\{[^}]*\\})?`, 'g'))].map((m) => m[0]),
  );
}

describe('alerts (prometheusRule)', () => {
  it('renders no PrometheusRule and no dashboard by default', () => {
    expect(defaults.filter((o) => o.kind === 'PrometheusRule')).toEqual([]);
    expect(defaults.filter((o) => o.metadata.name.endsWith('-dashboard'))).toEqual([]);
  });

  it('ships each alert once, with a severity, a summary and its runbook anchor', () => {
    const alerts = alertsOf(on);
    expect(alerts.map((a) => a.alert).sort()).toEqual([...ALERTS].sort());
    for (const a of alerts) {
      expect(['warning', 'critical']).toContain(a.labels?.['severity']);
      expect(a.for).toMatch(/^\d+m$/);
      expect(a.annotations?.['summary']?.length).toBeGreaterThan(20);
      expect(a.annotations?.['runbook']).toBe(`deploy/helm/README.md#${a.alert.toLowerCase()}`);
      expect(a.annotations?.['runbook_url']).toBeUndefined();
    }
  });

  it('has a runbook paragraph in deploy/helm/README.md for every alert, and none for alerts it does not ship', () => {
    const books = runbooks();
    expect([...books.keys()].sort()).toEqual([...ALERTS].sort());
    for (const [alert, text] of books) {
      expect({ alert, long: text.length > 200 }).toEqual({ alert, long: true });
    }
  });

  it('reads only this release namespace, with balanced expressions', () => {
    for (const a of alertsOf(on)) {
      expect(metricNames(a.expr).length).toBeGreaterThan(0);
      for (const s of selectors(a.expr)) expect(s).toMatch(/\{namespace="meditron"(,|\})/);
      expect(a.expr.split('(').length).toBe(a.expr.split(')').length);
    }
  });

  it('takes its thresholds and runbook base URL from values', async () => {
    const objects = await render(helmBin, {
      set: {
        ...MONITORING_ON,
        'prometheusRule.runbookBaseUrl': 'https://wiki.example/meditron/README.md',
        'prometheusRule.hookBudgetSeconds': '5',
        'prometheusRule.consumerLagMessages': '1000',
        'prometheusRule.outboxBacklogRequests': '50',
        'prometheusRule.labels.release': 'kube-prometheus-stack',
      },
    });
    const alerts = new Map(alertsOf(objects).map((a) => [a.alert, a]));
    expect(alerts.get('MeditronHookAnswersOverBudget')?.expr).toContain('le="5"');
    expect(alerts.get('MeditronConsumerLagHigh')?.expr).toMatch(/> 1000$/);
    expect(alerts.get('MeditronOutboxBacklog')?.expr).toMatch(
      /^max\(meditron_cds_outbox_backlog\{namespace="meditron"\}\) > 50$/,
    );
    expect(alerts.get('MeditronAuditChainBroken')?.annotations?.['runbook_url']).toBe(
      'https://wiki.example/meditron/README.md#meditronauditchainbroken',
    );
    const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata.labels?.['release']).toBe('kube-prometheus-stack');
  });

  it('refuses a hook budget that is not a bucket of the answer-time histogram', async () => {
    const err = await renderError(helmBin, { set: { ...MONITORING_ON, 'prometheusRule.hookBudgetSeconds': '4.5' } });
    expect(err).toContain('hookBudgetSeconds');
  });
});

describe('dashboard (dashboards)', () => {
  it('is a ConfigMap the Grafana sidecar picks up, holding the dashboard JSON', () => {
    const cm = dashboardConfigMapOf(on);
    expect(cm.metadata.labels?.['grafana_dashboard']).toBe('1');
    expect(cm.metadata.namespace).toBe('meditron');
    const dashboard = dashboardOf(on);
    expect(dashboard).toMatchObject({ uid: 'meditron-cds', title: 'Meditron CDS' });
  });

  it('has rows for the three apps, the GPU pool and the audit trail, each with queries', () => {
    const dashboard = dashboardOf(on);
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Gateway', 'cds-hooks', 'inference-proxy', 'GPU pool', 'Audit']);
    const graphs = dashboard.panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThan(15);
    for (const p of graphs)
      expect({ title: p.title, targets: (p.targets ?? []).length > 0 }).toEqual({ title: p.title, targets: true });
  });

  it('scopes every query to the namespace picked in the dashboard', () => {
    for (const q of panelQueries(dashboardOf(on))) {
      for (const s of selectors(q)) expect(s).toMatch(/\{namespace="\$namespace"(,|\})/);
    }
  });

  it('goes to another namespace and carries the sidecar folder annotation when asked', async () => {
    const objects = await render(helmBin, {
      set: {
        'dashboards.enabled': 'true',
        'dashboards.namespace': 'monitoring',
        'dashboards.annotations.grafana_folder': 'Meditron',
      },
    });
    const cm = dashboardConfigMapOf(objects);
    expect(cm.metadata.namespace).toBe('monitoring');
    expect(cm.metadata.annotations?.['grafana_folder']).toBe('Meditron');
    expect(objects.filter((o) => o.kind === 'PrometheusRule')).toEqual([]);
  });
});
