/**
 * The Node.js runtime settings the Helm chart gives each app (NODE_OPTIONS: V8's heap sizes; MALLOC_ARENA_MAX),
 * read from `helm template` of deploy/helm/meditron-cds with its default values, so the deployed benchmark starts
 * each app exactly as the chart configures it. Nothing is re-derived here: the chart's own template computes the
 * old-generation cap from each container's memory limit, and this reads what it rendered.
 */
import { ensureHelm, render } from '../../deploy/helm/meditron-cds/tests/helm';
import { configMapOf } from '../../deploy/helm/meditron-cds/tests/objects';

export type DeployedApp = 'gateway' | 'cds-hooks' | 'inference-proxy';

/** The ConfigMap keys that are the process runtime rather than the app's configuration. */
export const RUNTIME_KEYS = ['NODE_OPTIONS', 'MALLOC_ARENA_MAX'] as const;

export type ChartRuntime = Record<DeployedApp, Partial<Record<(typeof RUNTIME_KEYS)[number], string>>>;

/** Each app's runtime environment as the chart renders it (default values), e.g. for `startApp`. */
export async function chartRuntime(): Promise<ChartRuntime> {
  const objects = await render(ensureHelm());
  const of = (app: DeployedApp): ChartRuntime[DeployedApp] => {
    const data = configMapOf(objects, app);
    return Object.fromEntries(RUNTIME_KEYS.filter((k) => data[k] !== undefined).map((k) => [k, data[k]!]));
  };
  return { gateway: of('gateway'), 'cds-hooks': of('cds-hooks'), 'inference-proxy': of('inference-proxy') };
}
