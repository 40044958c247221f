/**
 * Every app gets what it reads. For each app, the environment variables its config schemas read (the zod objects
 * exported by apps/<app>/src/**\/*.config.ts) are compared with what the chart renders into its container:
 * - nothing rendered is unread (a typo or a dead setting would be);
 * - a setting rendered for one app is rendered for every other app whose schema reads it (the EHR client registry
 *   was once mounted on the gateway only, leaving cds-hooks with an empty FHIR allow-list);
 * - the rendered environment parses with the app's own schema;
 * - every file path it names is inside a volume mounted from the right key;
 * - what main.ts requires at start (requireStandalone) is rendered.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { IContainer } from 'kubernetes-models/v1/Container' with { 'resolution-mode': 'import' };
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec' with { 'resolution-mode': 'import' };
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap' with { 'resolution-mode': 'import' };
import { chartDir, customResources, ensureHelm, render, repoRoot, validateObject, type K8sObject } from './helm';
import { deploymentOf, ofKind } from './objects';

const apps = ['gateway', 'cds-hooks', 'inference-proxy'] as const;
type App = (typeof apps)[number];

/** Read by Node itself or by main.ts, never by a config schema; each with where it is read. */
const runtimeVars: Readonly<Record<string, string>> = {
  NODE_ENV: 'Express (NestJS platform) production mode',
  BIND_HOST: 'main.ts (process.env.BIND_HOST)',
  NODE_EXTRA_CA_CERTS: 'Node: extra CAs for every TLS client',
  NODE_USE_ENV_PROXY: 'Node 24: honour HTTP(S)_PROXY / NO_PROXY in fetch and http(s)',
  HTTPS_PROXY: 'Node (NODE_USE_ENV_PROXY)',
  HTTP_PROXY: 'Node (NODE_USE_ENV_PROXY)',
  NO_PROXY: 'Node (NODE_USE_ENV_PROXY)',
  NODE_OPTIONS: "Node: V8's heap sizes (values runtime.maxSemiSpaceMb, runtime.maxOldSpacePercent)",
  LD_PRELOAD: "the dynamic loader: the image's jemalloc (values runtime.allocator)",
  MALLOC_ARENA_MAX: "glibc's malloc (values runtime.mallocArenaMax)",
};

/** Settings that are shared by name but differ per app by design. */
const perAppValues = new Set(['KAFKA_CLIENT_ID', 'METRICS_PORT']);

/** Plausible values for settings that come from Secrets (the chart only names them). */
const secretStandIns: Readonly<Record<string, string>> = {
  DATABASE_URL: 'postgres://meditron:secret@pg.internal:5432/meditron',
  KAFKA_SASL_USERNAME: 'svc-meditron',
  KAFKA_SASL_PASSWORD: 'secret',
  STAFF_OIDC_ISSUER: 'https://idp.hospital.example/realms/staff',
  STAFF_OIDC_JWKS_URL: 'https://idp.hospital.example/realms/staff/certs',
  STAFF_OIDC_AUDIENCE: 'meditron-compliance',
  CONSOLE_OIDC_CLIENT_SECRET: 'console-client-secret',
  INTERNAL_TOKEN_SECRET: 'q0Zs7XU4ZzLr0V8dJm3hW2bQ1nP5cY6tA9eK4fH7gJ8',
};

const example = (name: string): string => path.join(chartDir, 'examples', `values-${name}.yaml`);
const scenarios = [
  { name: 'default', valuesFiles: [] as string[], complete: false },
  { name: 'production', valuesFiles: [example('production')], complete: true },
  { name: 'airgapped', valuesFiles: [example('airgapped')], complete: true },
  { name: 'openshift', valuesFiles: [example('openshift')], complete: true },
];

function filesUnder(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(full, pattern);
    return pattern.test(e.name) ? [full] : [];
  });
}

/** The zod object schemas an app's config modules export. */
async function configSchemasOf(app: App): Promise<z.ZodObject[]> {
  const modules = filesUnder(path.join(repoRoot, 'apps', app, 'src'), /\.config\.ts$/);
  const loaded = await Promise.all(modules.map(async (file) => (await import(file)) as Record<string, unknown>));
  const schemas = loaded.flatMap((exports) =>
    Object.values(exports).filter((v): v is z.ZodObject => v instanceof z.ZodObject),
  );
  if (schemas.length === 0) throw new Error(`${app}: no zod config schema exported by ${modules.join(', ')}`);
  return schemas;
}

/** Variables main.ts refuses to start without (`requireStandalone(app, { NAME: ... })`). */
function requiredAtStart(app: App): string[] {
  const main = readFileSync(path.join(repoRoot, 'apps', app, 'src', 'main.ts'), 'utf8');
  const call = /requireStandalone\([^{]*\{([^}]*)\}/.exec(main);
  if (!call?.[1]) throw new Error(`${app}: main.ts has no requireStandalone call to read the required settings from`);
  return [...call[1].matchAll(/([A-Z][A-Z0-9_]+)\s*:/g)].map((m) => m[1] as string);
}

interface RenderedApp {
  env: Map<string, string>;
  container: IContainer;
  pod: IPodSpec;
}

/** The environment the chart gives an app: its ConfigMaps (envFrom) and env entries, Secrets as stand-ins. */
function renderedApp(objects: readonly K8sObject[], app: App): RenderedApp {
  const pod = deploymentOf(objects, app).spec?.template.spec;
  const container = pod?.containers[0];
  if (!pod || !container) throw new Error(`${app}: no pod`);
  const configMaps = new Map(ofKind<IConfigMap>(objects, 'ConfigMap').map((c) => [c.metadata?.name, c.data ?? {}]));
  const env = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const data = configMaps.get(from.configMapRef?.name);
    if (!data) throw new Error(`${app}: envFrom names ${JSON.stringify(from)}, not a ConfigMap of this release`);
    for (const [k, v] of Object.entries(data)) env.set(k, v);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env.set(e.name, e.value);
    else if (e.valueFrom?.secretKeyRef) {
      const standIn = secretStandIns[e.name];
      if (standIn === undefined) throw new Error(`${app}: ${e.name} comes from a Secret; add a stand-in value here`);
      env.set(e.name, standIn);
    } else throw new Error(`${app}: ${e.name} has neither a value nor a secretKeyRef`);
  }
  return { env, container, pod };
}

/** The key a mounted file path is projected from, or why it is not mounted. */
function mountedKey(pod: IPodSpec, container: IContainer, file: string): string {
  const mount = (container.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath}/`));
  if (!mount) return `no volume is mounted over ${file}`;
  const volume = pod.volumes?.find((v) => v.name === mount.name);
  const source = volume?.secret ?? volume?.configMap;
  if (!source) return `volume ${mount.name} is neither a Secret nor a ConfigMap`;
  const relative = file.slice(mount.mountPath.length + 1);
  const item = source.items?.find((i) => i.path === relative);
  if (source.items && !item) return `volume ${mount.name} projects no ${relative}`;
  return `key:${item?.key ?? relative}`;
}

const schemas = new Map<App, z.ZodObject[]>();
const reads = new Map<App, Set<string>>();
const rendered = new Map<string, K8sObject[]>();

beforeAll(async () => {
  for (const app of apps) {
    const found = await configSchemasOf(app);
    schemas.set(app, found);
    reads.set(app, new Set(found.flatMap((s) => Object.keys(s.shape))));
  }
  const helmBin = ensureHelm();
  for (const s of scenarios) {
    const objects = await render(helmBin, { valuesFiles: s.valuesFiles });
    for (const o of objects) if (!customResources.has(o.kind)) await validateObject(o);
    rendered.set(s.name, objects);
  }
});

it('finds the schemas and what they read (the contract is not vacuous)', () => {
  expect(reads.get('gateway')).toContain('EHR_CLIENTS_FILE');
  expect(reads.get('cds-hooks')).toContain('EHR_CLIENTS_FILE');
  expect(reads.get('inference-proxy')).toContain('BACKEND_MAX_OUTSTANDING');
  for (const app of apps) expect(reads.get(app)).toContain('METRICS_PORT');
  expect(readFileSync(path.join(repoRoot, 'apps/gateway/src/main.ts'), 'utf8')).toContain('process.env.BIND_HOST');
});

describe.each(scenarios)('values: $name', ({ name, complete }) => {
  const appsOf = (): Map<App, RenderedApp> => {
    const objects = rendered.get(name);
    if (!objects) throw new Error(`${name} was not rendered`);
    return new Map(apps.map((app) => [app, renderedApp(objects, app)]));
  };

  it.each(apps)('renders nothing %s does not read', (app) => {
    const unread = [...(appsOf().get(app)?.env.keys() ?? [])].filter(
      (k) => !reads.get(app)?.has(k) && runtimeVars[k] === undefined,
    );
    expect(unread).toEqual([]);
  });

  it('gives every app each shared setting another app gets, with the same value', () => {
    const all = appsOf();
    const missing: string[] = [];
    for (const [app, { env }] of all) {
      for (const [other, theirs] of all) {
        if (other === app) continue;
        for (const [k, v] of theirs.env) {
          if (!reads.get(app)?.has(k)) continue;
          if (!env.has(k)) missing.push(`${app} lacks ${k} (${other} has it)`);
          else if (!perAppValues.has(k) && env.get(k) !== v) missing.push(`${app} ${k}=${env.get(k)}, ${other} ${v}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it.each(apps)('renders an environment %s parses with its own schema', (app) => {
    const env = Object.fromEntries(appsOf().get(app)?.env ?? []);
    for (const schema of schemas.get(app) ?? []) {
      const parsed = schema.safeParse(env);
      expect(parsed.success ? 'ok' : parsed.error.issues).toBe('ok');
    }
  });

  it.each(apps)('mounts every file %s is pointed at, from the key it names', (app) => {
    const rendered = appsOf().get(app);
    if (!rendered) throw new Error(app);
    const files = [...rendered.env].filter(([k, v]) => (k.endsWith('_FILE') || k === 'NODE_EXTRA_CA_CERTS') && v);
    for (const [k, file] of files) {
      expect({ k, mount: mountedKey(rendered.pod, rendered.container, file) }).toEqual({
        k,
        mount: `key:${path.basename(file)}`,
      });
    }
  });

  it.each(apps)('gives %s a METRICS_PORT that is its container port named metrics', (app) => {
    const rendered = appsOf().get(app);
    const port = Number(rendered?.env.get('METRICS_PORT'));
    expect(port).toBeGreaterThan(0);
    expect(rendered?.container.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(port);
  });

  if (complete) {
    it.each(apps)('renders what %s requires at start', (app) => {
      const env = appsOf().get(app)?.env;
      expect(requiredAtStart(app).filter((k) => !env?.has(k))).toEqual([]);
    });
  }
});

it('gives cds-hooks the EHR client registry the gateway gets (production)', () => {
  const objects = rendered.get('production') ?? [];
  const gateway = renderedApp(objects, 'gateway');
  const cdsHooks = renderedApp(objects, 'cds-hooks');
  expect(gateway.env.get('EHR_CLIENTS_FILE')).toBe('/etc/meditron/ehr-clients/clients.json');
  expect(cdsHooks.env.get('EHR_CLIENTS_FILE')).toBe(gateway.env.get('EHR_CLIENTS_FILE'));
  const secretOf = (r: RenderedApp): string | undefined =>
    r.pod.volumes?.find((v) => v.name === 'ehr-clients')?.secret?.secretName;
  expect(secretOf(cdsHooks)).toBe('meditron-cds-ehr-clients');
  expect(secretOf(cdsHooks)).toBe(secretOf(gateway));
});
