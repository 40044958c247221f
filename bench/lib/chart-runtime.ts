/**
 * The Node.js runtime settings the Helm chart gives each app: its ConfigMap's NODE_OPTIONS (V8's heap sizes),
 * LD_PRELOAD (the image's jemalloc) and MALLOC_ARENA_MAX, and the V8 flags on its container's command line
 * (`node <flags> dist/apps/<app>/src/main.js`; runtime.v8Flags, for flags Node refuses in NODE_OPTIONS). Read from
 * `helm template` of deploy/helm/meditron-cds with its default values, so the deployed benchmark starts each app
 * exactly as the chart does. Nothing is re-derived here: the chart's own template computes the old-generation cap
 * from each container's memory limit, and this reads what it rendered. The one translation is the preload's path:
 * the image's (/usr/local/lib/libjemalloc.so.2, the Dockerfile's link) is looked up on this machine by its file
 * name (`hostRuntime`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { ensureHelm, render } from '../../deploy/helm/meditron-cds/tests/helm';
import { configMapOf, mainContainer } from '../../deploy/helm/meditron-cds/tests/objects';

export type DeployedApp = 'gateway' | 'cds-hooks' | 'inference-proxy';

/** The ConfigMap keys that are the process runtime rather than the app's configuration. */
export const RUNTIME_KEYS = ['NODE_OPTIONS', 'LD_PRELOAD', 'MALLOC_ARENA_MAX'] as const;

export type RuntimeEnv = Partial<Record<(typeof RUNTIME_KEYS)[number], string>>;

export interface AppRuntime {
  /** Runtime variables of the app's ConfigMap. */
  readonly env: RuntimeEnv;
  /** Node's arguments before the entry point on the container's command line (V8 flags). */
  readonly nodeArgs: readonly string[];
}

export type ChartRuntime = Record<DeployedApp, AppRuntime>;

/**
 * The flags of a container command `node <flags> dist/apps/<app>/src/main.js`; throws on any other shape, since a
 * benchmark that started the app some other way would not measure it as deployed.
 */
export function nodeArgsOf(app: DeployedApp, command: readonly string[] | undefined): string[] {
  const entry = `dist/apps/${app}/src/main.js`;
  if (!command || command.length < 2 || command[0] !== 'node' || command.at(-1) !== entry) {
    throw new Error(`the chart starts ${app} with ${JSON.stringify(command)}, not \`node [flags] ${entry}\``);
  }
  return command.slice(1, -1);
}

/** Each app's runtime as the chart renders it (default values), with the image's paths. */
export async function chartRuntime(): Promise<ChartRuntime> {
  const objects = await render(ensureHelm());
  const of = (app: DeployedApp): AppRuntime => {
    const data = configMapOf(objects, app);
    return {
      env: Object.fromEntries(RUNTIME_KEYS.filter((k) => data[k] !== undefined).map((k) => [k, data[k]!])),
      nodeArgs: nodeArgsOf(app, mainContainer(objects, app).command),
    };
  };
  return { gateway: of('gateway'), 'cds-hooks': of('cds-hooks'), 'inference-proxy': of('inference-proxy') };
}

/**
 * A shared library the image preloads, found on this machine: the same path if it exists, else the library of
 * that file name the dynamic loader knows (`ldconfig -p`). Throws when there is none: a benchmark that quietly ran
 * another allocator would not measure the apps as deployed (.ci/install-system-deps.sh installs libjemalloc2).
 */
export function hostLibrary(imagePath: string, ldconfig: () => string = ldconfigList): string {
  if (existsSync(imagePath)) return imagePath;
  const name = basename(imagePath);
  // `\tlibjemalloc.so.2 (libc6,x86-64) => /lib/x86_64-linux-gnu/libjemalloc.so.2`; on x64 a 32-bit copy says
  // `(libc6)` and is skipped.
  for (const line of ldconfig().split('\n')) {
    const m = /^\s*(\S+) \(([^)]*)\) => (\S+)$/.exec(line);
    const native = m !== null && m[2]!.includes('x86-64') === (process.arch === 'x64');
    if (m && native && m[1] === name && existsSync(m[3]!)) return m[3]!;
  }
  throw new Error(`${name} (the chart preloads ${imagePath}) is not on this machine: run .ci/install-system-deps.sh`);
}

/** `ldconfig -p`; Debian keeps ldconfig in /sbin, which a non-root PATH often lacks. */
function ldconfigList(): string {
  const bin = ['/sbin/ldconfig', '/usr/sbin/ldconfig'].find((p) => existsSync(p)) ?? 'ldconfig';
  return execFileSync(bin, ['-p'], { encoding: 'utf8' });
}

/** The chart's runtime with each preload's path as found on this machine (what a process here is started with). */
export function hostRuntime(runtime: ChartRuntime, ldconfig?: () => string): ChartRuntime {
  const host = ({ env, nodeArgs }: AppRuntime): AppRuntime => ({
    nodeArgs,
    env:
      env.LD_PRELOAD === undefined
        ? env
        : {
            ...env,
            LD_PRELOAD: env.LD_PRELOAD.split(/[\s:]+/)
              .filter((p) => p !== '')
              .map((p) => hostLibrary(p, ldconfig))
              .join(':'),
          },
  });
  return {
    gateway: host(runtime.gateway),
    'cds-hooks': host(runtime['cds-hooks']),
    'inference-proxy': host(runtime['inference-proxy']),
  };
}
