/**
 * Portable across clusters: OpenShift mode (no fixed uid/gid), GPU node selection off by default, zone spread that
 * tolerates nodes without zone labels, and names that fit 63 characters for the longest release name Helm allows.
 */
import * as path from 'node:path';
import type { IService } from 'kubernetes-models/v1/Service' with { 'resolution-mode': 'import' };
import { chartDir, customResources, ensureHelm, render, validateObject, type K8sObject } from './helm';
import { containersOf, deploymentOf, ofKind, podSpecs } from './objects';

const example = (name: string): string => path.join(chartDir, 'examples', `values-${name}.yaml`);
let helmBin = '';

async function renderValid(opts: Parameters<typeof render>[1]): Promise<K8sObject[]> {
  const objects = await render(helmBin, opts);
  for (const o of objects) if (!customResources.has(o.kind)) await validateObject(o);
  return objects;
}

beforeAll(() => {
  helmBin = ensureHelm();
});

describe('OpenShift mode', () => {
  it('fixes no uid, gid or fsGroup anywhere, and stays non-root with seccomp', async () => {
    const objects = await renderValid({ valuesFiles: [example('openshift')] });
    const pods = podSpecs(objects);
    expect(pods.map((p) => p.owner)).toEqual(expect.arrayContaining(['Deployment/cds-meditron-cds-vllm']));
    for (const { owner, pod } of pods) {
      const sc = pod.securityContext;
      expect({ owner, uid: sc?.runAsUser, gid: sc?.runAsGroup, fs: sc?.fsGroup }).toEqual({ owner });
      expect(sc?.runAsNonRoot).toBe(true);
      expect(sc?.seccompProfile?.type).toBe('RuntimeDefault');
      for (const c of containersOf(pod)) {
        expect({ owner, uid: c.securityContext?.runAsUser, gid: c.securityContext?.runAsGroup }).toEqual({ owner });
        expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
      }
    }
  });

  it('keeps uid/gid 10001 elsewhere', async () => {
    for (const { pod } of podSpecs(await render(helmBin, {}))) expect(pod.securityContext?.runAsUser).toBe(10001);
  });
});

describe('GPU node selection', () => {
  it('selects no GPU node label by default (the nvidia.com/gpu request already needs a GPU node)', async () => {
    const objects = await renderValid({ set: { 'modelPool.enabled': 'true' } });
    const pod = deploymentOf(objects, 'vllm').spec?.template.spec;
    expect(pod?.nodeSelector).toBeUndefined();
    expect(pod?.tolerations?.some((t) => t.key === 'nvidia.com/gpu')).toBe(true);
    expect(pod?.containers[0]?.resources?.limits?.['nvidia.com/gpu']).toBe(4);
  });
});

describe('topology spread', () => {
  const constraints = (objects: readonly K8sObject[]) =>
    deploymentOf(objects, 'gateway').spec?.template.spec?.topologySpreadConstraints ?? [];

  it('prefers zones by default and production, so nodes without zone labels still schedule', async () => {
    for (const valuesFiles of [[], [example('production')]]) {
      const zone = constraints(await render(helmBin, { valuesFiles })).find(
        (c) => c.topologyKey === 'topology.kubernetes.io/zone',
      );
      expect(zone?.whenUnsatisfiable).toBe('ScheduleAnyway');
      expect(zone?.nodeTaintsPolicy).toBe('Honor');
    }
    const host = constraints(await render(helmBin, { valuesFiles: [example('production')] })).find(
      (c) => c.topologyKey === 'kubernetes.io/hostname',
    );
    expect(host?.whenUnsatisfiable).toBe('DoNotSchedule');
  });

  it('drops the zone constraint when asked', async () => {
    const objects = await renderValid({ set: { 'topologySpread.zone.enabled': 'false' } });
    expect(constraints(objects).map((c) => c.topologyKey)).toEqual(['kubernetes.io/hostname']);
  });
});

describe('names', () => {
  // Helm refuses release names over 53 characters; this one also avoids the `<release>-meditron-cds` shortcut.
  const release = 'hospital-north-campus-clinical-decision-support-prod1';

  it('stay within 63 characters, distinct per kind, for the longest release name', async () => {
    expect(release).toHaveLength(53);
    const objects = await renderValid({
      release,
      valuesFiles: [example('production')],
      set: { 'migrations.enabled': 'true' },
    });
    const dnsLabel = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
    const seen = new Set<string>();
    for (const o of objects) {
      expect({ name: o.metadata.name, ok: o.metadata.name.length <= 63 }).toEqual({ name: o.metadata.name, ok: true });
      const key = `${o.kind}/${o.metadata.name}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
    for (const s of ofKind<IService>(objects, 'Service')) expect(s.metadata?.name).toMatch(dnsLabel);
    const proxy = ofKind<IService>(objects, 'Service').find((s) => s.metadata?.name?.endsWith('-inference-proxy'));
    expect(proxy?.metadata?.name).toHaveLength(63);
    const claim = deploymentOf(objects, 'vllm').spec?.template.spec?.volumes?.find((v) => v.name === 'model-cache');
    const pvc = objects.find((o) => o.kind === 'PersistentVolumeClaim');
    expect(claim?.persistentVolumeClaim?.claimName).toBe(pvc?.metadata.name);
  });
});
