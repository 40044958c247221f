/**
 * Rollouts and hooks: preStop sleeps where a Service or Ingress routes traffic, grace periods that cover each app's
 * drains, a migration Job deadline below Helm's default timeout, a migration NetworkPolicy that is cleaned up, and
 * the extension points (extraEnv, extraEnvFrom, extraVolumes, extraVolumeMounts, initContainers, lifecycle) on
 * every pod, the migration Job included.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy' with {
  'resolution-mode': 'import',
};
import type { IJob } from 'kubernetes-models/batch/v1/Job' with { 'resolution-mode': 'import' };
import {
  chartDir,
  customResources,
  ensureHelm,
  render,
  renderError,
  renderNotes,
  validateObject,
  type K8sObject,
} from './helm';
import { componentOf, configMapOf, deploymentOf, mainContainer, ofKind, one, podSpecs } from './objects';

let helmBin = '';
let defaults: K8sObject[] = [];

beforeAll(async () => {
  helmBin = ensureHelm();
  defaults = await render(helmBin, {});
});

describe('shutdown', () => {
  it.each(['gateway', 'cds-hooks'])('sleeps in preStop on %s so routing stops before SIGTERM', (component) => {
    const c = mainContainer(defaults, component);
    expect(c.lifecycle?.preStop?.exec?.command).toEqual(['sleep', '10']);
    const grace = deploymentOf(defaults, component).spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
    const cm = configMapOf(defaults, component);
    const drainMs = Number(cm.UPSTREAM_TIMEOUT_MS ?? Number(cm.HOOK_DEADLINE_MS) + 5000);
    expect(grace).toBeGreaterThanOrEqual(10 + drainMs / 1000 + 10);
  });

  it('gives the proxy a grace period covering its two sequential drains and the audit flush', () => {
    const grace = deploymentOf(defaults, 'inference-proxy').spec?.template.spec?.terminationGracePeriodSeconds;
    const drain = Number(configMapOf(defaults, 'inference-proxy').SHUTDOWN_GRACE_MS) / 1000;
    expect(grace).toBeGreaterThanOrEqual(2 * drain + 10);
  });

  it.each([
    [{ 'inferenceProxy.terminationGracePeriodSeconds': '150' }, /2 x shutdownGraceMs/],
    [{ 'gateway.terminationGracePeriodSeconds': '20' }, /gateway.terminationGracePeriodSeconds \(20\)/],
    [{ 'cdsHooks.preStopSleepSeconds': '30' }, /cdsHooks.terminationGracePeriodSeconds \(40\)/],
  ])('refuses %j', async (set, message) => {
    expect(await renderError(helmBin, { set })).toMatch(message);
  });
});

describe('migration hook', () => {
  it('gives up before Helm does (its deadline is below the default 5m timeout) and says to raise --timeout', async () => {
    const job = one(ofKind<IJob>(defaults, 'Job'), 'migration Job');
    expect(job.spec?.activeDeadlineSeconds).toBeLessThan(300);
    expect(await renderNotes(helmBin, {})).toMatch(/--timeout/);
    const readme = readFileSync(path.join(chartDir, '..', 'README.md'), 'utf8');
    expect(readme).toMatch(/--timeout 45m/);
  });

  it('removes its NetworkPolicy once the hook phase is over', () => {
    const policy = one(
      ofKind<INetworkPolicy>(defaults, 'NetworkPolicy').filter((p) => componentOf(p) === 'migrations'),
      'migration NetworkPolicy',
    );
    const annotations = policy.metadata?.annotations ?? {};
    expect(annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(annotations['helm.sh/hook-delete-policy']?.split(',')).toEqual(
      expect.arrayContaining(['hook-succeeded', 'before-hook-creation']),
    );
  });
});

describe('extension points on every pod', () => {
  const components = ['gateway', 'cdsHooks', 'inferenceProxy', 'migrations', 'modelPool'] as const;
  let objects: K8sObject[] = [];
  let dir = '';

  beforeAll(async () => {
    const extras = (name: string) => ({
      extraEnv: [
        { name: 'FROM_FIELD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'PLAIN', value: name },
      ],
      extraEnvFrom: [{ secretRef: { name: `${name}-extra` } }],
      extraVolumes: [{ name: 'extra', configMap: { name: `${name}-extra` } }],
      extraVolumeMounts: [{ name: 'extra', mountPath: '/etc/extra', readOnly: true }],
      initContainers: [{ name: 'wait', image: 'registry.example/wait:1.0', command: ['true'] }],
      lifecycle: { preStop: { exec: { command: ['sleep', '7'] } } },
    });
    const values: Record<string, unknown> = Object.fromEntries(components.map((c) => [c, extras(c)]));
    values.modelPool = { ...(values.modelPool as object), enabled: true };
    dir = mkdtempSync(path.join(tmpdir(), 'meditron-values-'));
    const file = path.join(dir, 'extras.yaml');
    writeFileSync(file, stringify(values));
    objects = await render(helmBin, { valuesFiles: [file] });
    for (const o of objects) if (!customResources.has(o.kind)) await validateObject(o);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders every extension point on every workload, the migration Job included', () => {
    const pods = podSpecs(objects);
    expect(pods.map((p) => p.owner).sort()).toEqual([
      'Deployment/cds-meditron-cds-cds-hooks',
      'Deployment/cds-meditron-cds-gateway',
      'Deployment/cds-meditron-cds-inference-proxy',
      'Deployment/cds-meditron-cds-vllm',
      'Job/cds-meditron-cds-migrations',
    ]);
    for (const { owner, pod } of pods) {
      const c = pod.containers[0];
      const got = {
        owner,
        init: pod.initContainers?.map((i) => i.name),
        volume: pod.volumes?.some((v) => v.name === 'extra'),
        mount: c?.volumeMounts?.some((m) => m.mountPath === '/etc/extra'),
        envFrom: c?.envFrom?.some((e) => e.secretRef?.name?.endsWith('-extra')),
        fieldEnv: c?.env?.find((e) => e.name === 'FROM_FIELD')?.valueFrom?.fieldRef?.fieldPath,
        plainEnv: c?.env?.some((e) => e.name === 'PLAIN'),
        preStop: c?.lifecycle?.preStop?.exec?.command,
      };
      expect(got).toEqual({
        owner,
        init: ['wait'],
        volume: true,
        mount: true,
        envFrom: true,
        fieldEnv: 'metadata.name',
        plainEnv: true,
        preStop: ['sleep', '7'],
      });
    }
  });
});
