/**
 * The Node.js runtime of each app container, and cds-hooks' load shedding:
 * - NODE_OPTIONS caps V8's young generation (runtime.maxSemiSpaceMb) and its old generation at a share of the
 *   container's memory limit (runtime.maxOldSpacePercent), whatever unit the limit is written in;
 * - LD_PRELOAD preloads the image's jemalloc (runtime.allocator, default jemalloc; glibc leaves it out);
 * - MALLOC_ARENA_MAX bounds glibc's malloc arenas; 0 leaves V8's and glibc's defaults;
 * - runtime.v8Flags go on the container's command line, before the entry point (cds-hooks: Maglev without
 *   inlining, a flag Node refuses in NODE_OPTIONS);
 * - HOOK_MAX_IN_FLIGHT and HOOK_MAX_EVENT_LOOP_DELAY_MS come from cdsHooks.maxInFlight / maxEventLoopDelayMs, and
 *   the chart's defaults are the app's own.
 * The benchmark's deployed mode starts the apps with what these ConfigMaps hold (bench/lib/chart-runtime.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadCdsHooksConfig } from '../../../../apps/cds-hooks/src/cds-hooks.config';
import { chartDir, ensureHelm, render, renderError, type K8sObject } from './helm';
import { configMapOf, mainContainer } from './objects';

const apps = [
  ['gateway', 'gateway'],
  ['cds-hooks', 'cdsHooks'],
  ['inference-proxy', 'inferenceProxy'],
] as const;

/** Where the Dockerfile's runtime stage links Debian's libjemalloc2. */
const JEMALLOC = '/usr/local/lib/libjemalloc.so.2';

const example = (name: string): string => path.join(chartDir, 'examples', `values-${name}.yaml`);
const scenarios = [
  { name: 'default', valuesFiles: [] as string[] },
  { name: 'production', valuesFiles: [example('production')] },
  { name: 'local', valuesFiles: [example('local')] },
];

/** MiB of a Kubernetes memory quantity, rounded down (the test's own reading, not the chart's helper). */
function mib(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!m) throw new Error(`not a memory quantity: ${quantity}`);
  const bytesPer: Record<string, number> = {
    '': 1,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.floor((Number(m[1]) * bytesPer[m[2] ?? '']!) / 2 ** 20);
}

/** `--flag=value` of a NODE_OPTIONS string, as a number. */
function flag(nodeOptions: string | undefined, name: string): number | undefined {
  const m = new RegExp(`(?:^| )--${name}=(\\d+)(?: |$)`).exec(nodeOptions ?? '');
  return m ? Number(m[1]) : undefined;
}

let helmBin = '';
beforeAll(() => {
  helmBin = ensureHelm();
});

describe.each(scenarios)('the Node.js runtime ($name values)', ({ valuesFiles }) => {
  let objects: K8sObject[] = [];
  beforeAll(async () => {
    objects = await render(helmBin, { valuesFiles });
  });

  it.each(['cds-hooks', 'inference-proxy'] as const)(
    'preloads jemalloc in %s from the path the image links it to',
    (app) => {
      expect(configMapOf(objects, app).LD_PRELOAD).toBe(JEMALLOC);
    },
  );

  it("keeps glibc's malloc in the gateway", () => {
    expect(configMapOf(objects, 'gateway').LD_PRELOAD).toBeUndefined();
  });

  it('starts cds-hooks with Maglev not inlining, from the command line; the others with plain node', () => {
    expect(mainContainer(objects, 'cds-hooks').command).toEqual([
      'node',
      '--no-maglev-inlining',
      'dist/apps/cds-hooks/src/main.js',
    ]);
    expect(mainContainer(objects, 'gateway').command).toEqual(['node', 'dist/apps/gateway/src/main.js']);
    expect(mainContainer(objects, 'inference-proxy').command).toEqual([
      'node',
      'dist/apps/inference-proxy/src/main.js',
    ]);
  });

  it.each(apps)('caps %s: young generation, old generation at half its memory limit, two malloc arenas', (app) => {
    const env = configMapOf(objects, app);
    const limit = mainContainer(objects, app).resources?.limits?.memory;
    expect(typeof limit).toBe('string');
    const limitMib = mib(String(limit));
    expect(flag(env.NODE_OPTIONS, 'max-semi-space-size')).toBe(8);
    expect(flag(env.NODE_OPTIONS, 'max-old-space-size')).toBe(Math.floor(limitMib / 2));
    expect(env.MALLOC_ARENA_MAX).toBe('2');
  });
});

describe('sizing the old generation from the memory limit', () => {
  it('reads the limit in any unit', async () => {
    const objects = await render(helmBin, {
      set: {
        'gateway.resources.limits.memory': '500M',
        'cdsHooks.resources.limits.memory': '1Gi',
        'inferenceProxy.resources.limits.memory': '402653184',
        'inferenceProxy.runtime.maxOldSpacePercent': '75',
      },
    });
    expect(flag(configMapOf(objects, 'gateway').NODE_OPTIONS, 'max-old-space-size')).toBe(238);
    expect(flag(configMapOf(objects, 'cds-hooks').NODE_OPTIONS, 'max-old-space-size')).toBe(512);
    expect(flag(configMapOf(objects, 'inference-proxy').NODE_OPTIONS, 'max-old-space-size')).toBe(288);
  });

  it('refuses a share of a limit that is not set', async () => {
    expect(await renderError(helmBin, { set: { 'cdsHooks.resources.limits': 'null' } })).toMatch(
      'cdsHooks.runtime.maxOldSpacePercent needs cdsHooks.resources.limits.memory',
    );
  });

  it('refuses a limit it cannot read', async () => {
    expect(await renderError(helmBin, { set: { 'gateway.resources.limits.memory': 'lots' } })).toMatch(
      'memory quantity "lots"',
    );
  });
});

describe('turning the runtime settings off or adding to them', () => {
  it("leaves V8's and glibc's defaults when every setting is 0 and the allocator glibc", async () => {
    const set = { 'gateway.runtime.maxSemiSpaceMb': '0', 'gateway.runtime.maxOldSpacePercent': '0' };
    const env = configMapOf(
      await render(helmBin, {
        set: { ...set, 'gateway.runtime.mallocArenaMax': '0', 'gateway.runtime.allocator': 'glibc' },
      }),
      'gateway',
    );
    expect(env.NODE_OPTIONS).toBeUndefined();
    expect(env.LD_PRELOAD).toBeUndefined();
    expect(env.MALLOC_ARENA_MAX).toBeUndefined();
  });

  it("keeps glibc's malloc, arenas still capped, when the allocator is glibc", async () => {
    const env = configMapOf(await render(helmBin, { set: { 'cdsHooks.runtime.allocator': 'glibc' } }), 'cds-hooks');
    expect(env.LD_PRELOAD).toBeUndefined();
    expect(env.MALLOC_ARENA_MAX).toBe('2');
  });

  it('preloads jemalloc in the gateway when asked, arenas still capped for an image without it', async () => {
    const env = configMapOf(await render(helmBin, { set: { 'gateway.runtime.allocator': 'jemalloc' } }), 'gateway');
    expect(env.LD_PRELOAD).toBe(JEMALLOC);
    expect(env.MALLOC_ARENA_MAX).toBe('2');
  });

  it('refuses an allocator it does not know, by schema and, without it, by the template', async () => {
    const set = { 'gateway.runtime.allocator': 'tcmalloc' };
    expect(await renderError(helmBin, { set })).toMatch(/gateway\/runtime\/allocator.*(jemalloc|glibc)/s);
    expect(await renderError(helmBin, { set, extraArgs: ['--skip-schema-validation'] })).toMatch(
      'gateway.runtime.allocator must be jemalloc or glibc, not "tcmalloc"',
    );
  });

  it('links jemalloc in the image where the chart preloads it from', () => {
    const dockerfile = readFileSync(path.join(chartDir, '..', '..', '..', 'Dockerfile'), 'utf8');
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    expect(runtimeStage).toMatch(/apt-get install -y --no-install-recommends libjemalloc2/);
    expect(runtimeStage).toContain(`ln -s "$(find /usr/lib -name libjemalloc.so.2 -print -quit)" ${JEMALLOC}`);
    expect(runtimeStage).toContain(`test -e ${JEMALLOC}`);
  });

  it("gives node the app's V8 flags in order before the entry point, and none when the list is empty", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'v8flags-'));
    const values = path.join(dir, 'values.yaml');
    writeFileSync(values, 'cdsHooks:\n  runtime:\n    v8Flags: []\n');
    const objects = await render(helmBin, {
      valuesFiles: [values],
      set: { 'gateway.runtime.v8Flags': '{--no-maglev,--stack-size=2000}' },
    });
    rmSync(dir, { recursive: true });
    expect(mainContainer(objects, 'cds-hooks').command).toEqual(['node', 'dist/apps/cds-hooks/src/main.js']);
    expect(mainContainer(objects, 'gateway').command).toEqual([
      'node',
      '--no-maglev',
      '--stack-size=2000',
      'dist/apps/gateway/src/main.js',
    ]);
  });

  it('refuses a V8 flag that is not one flag, by schema and, without it, by the template', async () => {
    const set = { 'inferenceProxy.runtime.v8Flags': '{--inspect=0.0.0.0:9229 --expose-gc}' };
    expect(await renderError(helmBin, { set })).toMatch(/inferenceProxy\/runtime\/v8Flags\/0/);
    expect(await renderError(helmBin, { set, extraArgs: ['--skip-schema-validation'] })).toMatch(
      'inferenceProxy.runtime.v8Flags: "--inspect=0.0.0.0:9229 --expose-gc" is not a V8 flag',
    );
  });

  it("has cds-hooks' default flag accepted by the image's Node.js major on the command line, refused in NODE_OPTIONS", () => {
    const { PATH } = process.env;
    // This test's Node is the package's pinned major, the Dockerfile's node:24 base.
    expect(spawnSync(process.execPath, ['--no-maglev-inlining', '-e', '0'], { env: { PATH } }).status).toBe(0);
    const viaEnv = spawnSync(process.execPath, ['-e', '0'], {
      env: { PATH, NODE_OPTIONS: '--no-maglev-inlining' },
      encoding: 'utf8',
    });
    expect(viaEnv.status).not.toBe(0);
    expect(viaEnv.stderr).toContain('is not allowed in NODE_OPTIONS');
  });

  it('appends extraNodeOptions after its own flags', async () => {
    const objects = await render(helmBin, {
      set: { 'inferenceProxy.runtime.extraNodeOptions': '--heapsnapshot-signal=SIGUSR2' },
    });
    expect(configMapOf(objects, 'inference-proxy').NODE_OPTIONS).toBe(
      '--max-semi-space-size=8 --max-old-space-size=256 --heapsnapshot-signal=SIGUSR2',
    );
  });
});

describe('cds-hooks load shedding', () => {
  /** Comes from a Secret (the chart only names it); the app refuses to start without one. */
  const secrets = { INTERNAL_TOKEN_SECRET: 'q0Zs7XU4ZzLr0V8dJm3hW2bQ1nP5cY6tA9eK4fH7gJ8' };

  it("renders the app's own defaults", async () => {
    const env = configMapOf(await render(helmBin, {}), 'cds-hooks');
    const app = loadCdsHooksConfig(secrets);
    expect(Number(env.HOOK_MAX_IN_FLIGHT)).toBe(app.HOOK_MAX_IN_FLIGHT);
    expect(Number(env.HOOK_MAX_EVENT_LOOP_DELAY_MS)).toBe(app.HOOK_MAX_EVENT_LOOP_DELAY_MS);
  });

  it('passes the values the app reads', async () => {
    const set = { 'cdsHooks.maxInFlight': '32', 'cdsHooks.maxEventLoopDelayMs': '50' };
    const env = configMapOf(await render(helmBin, { set }), 'cds-hooks');
    const app = loadCdsHooksConfig({ ...env, ...secrets });
    expect(app.HOOK_MAX_IN_FLIGHT).toBe(32);
    expect(app.HOOK_MAX_EVENT_LOOP_DELAY_MS).toBe(50);
  });

  it('refuses values the app would refuse', async () => {
    expect(await renderError(helmBin, { set: { 'cdsHooks.maxInFlight': '-1' } })).toMatch('maxInFlight');
  });
});
