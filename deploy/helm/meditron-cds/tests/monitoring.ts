/**
 * The chart's alerts and dashboard as data: the rendered PrometheusRule's alerts, the dashboard's panel queries,
 * and the metric names both use. Shared by monitoring.spec.ts (the chart) and test/e2e/alert-metrics.e2e-spec.ts
 * (the names against running apps' /metrics).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { chartDir, render, type K8sObject } from './helm';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export interface DashboardPanel {
  readonly type: string;
  readonly title: string;
  readonly targets?: ReadonlyArray<{ readonly expr: string }>;
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly DashboardPanel[];
}

/** The values that turn both on. */
export const MONITORING_ON: Readonly<Record<string, string>> = {
  'prometheusRule.enabled': 'true',
  'dashboards.enabled': 'true',
};

export function alertsOf(objects: readonly K8sObject[]): AlertRule[] {
  const rules = objects.filter((o) => o.kind === 'PrometheusRule');
  if (rules.length !== 1) throw new Error(`expected one PrometheusRule, got ${rules.length}`);
  const spec = rules[0]!['spec'] as { groups: Array<{ rules: AlertRule[] }> };
  return spec.groups.flatMap((g) => g.rules);
}

export function dashboardConfigMapOf(objects: readonly K8sObject[]): K8sObject & { data: Record<string, string> } {
  const maps = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard'));
  if (maps.length !== 1) throw new Error(`expected one dashboard ConfigMap, got ${maps.length}`);
  return maps[0] as K8sObject & { data: Record<string, string> };
}

export function dashboardOf(objects: readonly K8sObject[]): Dashboard {
  return JSON.parse(dashboardConfigMapOf(objects).data['meditron-cds.json'] ?? 'null') as Dashboard;
}

export function panelQueries(dashboard: Dashboard): string[] {
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

/** The metric names a PromQL expression reads (ours, and the process / Node.js defaults). */
export function metricNames(expr: string): string[] {
  return [...new Set(expr.match(/\b(?:meditron|process|nodejs)_[a-z0-9_]+\b/g) ?? [])];
}

/** Every metric name used by an alert or a panel of the chart with both switched on. */
export async function monitoringMetricNames(helmBin: string): Promise<string[]> {
  const objects = await render(helmBin, { set: MONITORING_ON });
  const exprs = [...alertsOf(objects).map((a) => a.expr), ...panelQueries(dashboardOf(objects))];
  return [...new Set(exprs.flatMap(metricNames))].sort();
}

/** The README's runbook section: `#### <AlertName>` headings and the paragraph under each. */
export function runbooks(): Map<string, string> {
  const readme = readFileSync(path.join(chartDir, '..', 'README.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of readme.matchAll(/^#### (Meditron[A-Za-z]+)\n\n([\s\S]*?)(?=\n#{2,4} |(?![\s\S]))/gm))
    out.set(m[1]!, m[2]!.trim());
  return out;
}
