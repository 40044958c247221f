/**
 * Narrowing helpers over rendered manifests, shared by the chart specs. Every spec schema-validates what it renders
 * (or relies on chart.spec.ts having validated the same scenario) before narrowing objects with these.
 */
import type { IContainer } from 'kubernetes-models/v1/Container' with { 'resolution-mode': 'import' };
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec' with { 'resolution-mode': 'import' };
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap' with { 'resolution-mode': 'import' };
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment' with { 'resolution-mode': 'import' };
import type { IJob } from 'kubernetes-models/batch/v1/Job' with { 'resolution-mode': 'import' };
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy' with {
  'resolution-mode': 'import',
};
import type { K8sObject } from './helm';

// The objects below were schema-validated (see "validates against the Kubernetes schemas") before being narrowed.
export function ofKind<T>(objects: readonly K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

export function one<T>(items: readonly T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0] as T;
}

export function named<T extends { metadata?: { name?: string } }>(items: readonly T[], suffix: string): T {
  return one(
    items.filter((i) => i.metadata?.name?.endsWith(suffix)),
    `object named *${suffix}`,
  );
}

export type NetworkPolicySpec = NonNullable<INetworkPolicy['spec']>;

export function specOf(policy: INetworkPolicy): NetworkPolicySpec {
  if (!policy.spec) throw new Error(`NetworkPolicy ${policy.metadata?.name} has no spec`);
  return policy.spec;
}

export function componentOf(obj: { metadata?: { labels?: Record<string, string> } }): string | undefined {
  return obj.metadata?.labels?.['app.kubernetes.io/component'];
}

/** Pod specs of every workload (Deployments and Jobs), with the owner's name. */
export function podSpecs(
  objects: readonly K8sObject[],
): Array<{ owner: string; pod: IPodSpec; annotations: Record<string, string> }> {
  const pods: Array<{ owner: string; pod: IPodSpec; annotations: Record<string, string> }> = [];
  for (const d of ofKind<IDeployment>(objects, 'Deployment')) {
    const pod = d.spec?.template.spec;
    if (!pod) throw new Error(`Deployment ${d.metadata?.name} has no pod spec`);
    pods.push({
      owner: `Deployment/${d.metadata?.name}`,
      pod,
      annotations: d.spec?.template.metadata?.annotations ?? {},
    });
  }
  for (const j of ofKind<IJob>(objects, 'Job')) {
    const pod = j.spec?.template.spec;
    if (!pod) throw new Error(`Job ${j.metadata?.name} has no pod spec`);
    pods.push({ owner: `Job/${j.metadata?.name}`, pod, annotations: j.spec?.template.metadata?.annotations ?? {} });
  }
  return pods;
}

export function containersOf(pod: IPodSpec): IContainer[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

export function deploymentOf(objects: readonly K8sObject[], component: string): IDeployment {
  return one(
    ofKind<IDeployment>(objects, 'Deployment').filter((d) => componentOf(d) === component),
    `${component} Deployment`,
  );
}

export function mainContainer(objects: readonly K8sObject[], component: string): IContainer {
  const pod = deploymentOf(objects, component).spec?.template.spec;
  if (!pod) throw new Error(`${component} has no pod spec`);
  return one(pod.containers, `${component} container`);
}

export function configMapOf(objects: readonly K8sObject[], component: string): Record<string, string> {
  const cm = one(
    ofKind<IConfigMap>(objects, 'ConfigMap').filter((c) => componentOf(c) === component),
    `${component} ConfigMap`,
  );
  return cm.data ?? {};
}

export function argValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}
