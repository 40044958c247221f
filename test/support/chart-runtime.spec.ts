// The deployed benchmark's runtime per app (bench/lib/chart-runtime.ts): specced here because the unit-test roots
// leave bench/ out. The chart preloads jemalloc from the image's path; a process on this machine must get the same
// library from wherever Debian put it, or the benchmark must refuse to run. The V8 flags on the container's command
// line come through as node's arguments, and a command of any other shape stops the benchmark.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartRuntime, hostLibrary, hostRuntime, nodeArgsOf, type ChartRuntime } from '../../bench/lib/chart-runtime';

const IMAGE_PATH = '/usr/local/lib/libjemalloc.so.2';

describe('hostLibrary', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'chart-runtime-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a path that exists here', () => {
    expect(hostLibrary(process.execPath, () => '')).toBe(process.execPath);
  });

  it("takes the loader's library of the same file name when the image's path is not here", () => {
    const lib = join(dir, 'libjemalloc.so.2');
    writeFileSync(lib, '');
    const listing = [
      '2 libs found in cache `/etc/ld.so.cache`',
      `\tlibjemalloc.so.1 (libc6,x86-64) => ${process.execPath}`,
      `\tlibjemalloc.so.2 (libc6,x86-64) => ${lib}`,
    ].join('\n');
    expect(hostLibrary('/nowhere/libjemalloc.so.2', () => listing)).toBe(lib);
  });

  it('refuses to go on without it, saying what installs it', () => {
    expect(() => hostLibrary('/nowhere/libjemalloc.so.2', () => '')).toThrow(
      'libjemalloc.so.2 (the chart preloads /nowhere/libjemalloc.so.2) is not on this machine: run .ci/install-system-deps.sh',
    );
  });
});

describe('hostRuntime', () => {
  it('changes only the preload', () => {
    const lib = process.execPath;
    const rendered: ChartRuntime = {
      gateway: { env: { NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '2' }, nodeArgs: [] },
      'cds-hooks': {
        env: { LD_PRELOAD: '/nowhere/libjemalloc.so.2', MALLOC_ARENA_MAX: '2' },
        nodeArgs: ['--no-maglev-inlining'],
      },
      'inference-proxy': { env: {}, nodeArgs: [] },
    };
    const listing = `\tlibjemalloc.so.2 (libc6,x86-64) => ${lib}`;
    expect(hostRuntime(rendered, () => listing)).toEqual({
      gateway: { env: { NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '2' }, nodeArgs: [] },
      'cds-hooks': { env: { LD_PRELOAD: lib, MALLOC_ARENA_MAX: '2' }, nodeArgs: ['--no-maglev-inlining'] },
      'inference-proxy': { env: {}, nodeArgs: [] },
    });
  });
});

describe('nodeArgsOf', () => {
  it("takes the flags between node and the app's entry point", () => {
    expect(nodeArgsOf('cds-hooks', ['node', '--no-maglev-inlining', 'dist/apps/cds-hooks/src/main.js'])).toEqual([
      '--no-maglev-inlining',
    ]);
    expect(nodeArgsOf('gateway', ['node', 'dist/apps/gateway/src/main.js'])).toEqual([]);
  });

  it.each([
    ['no command (the image default)', undefined],
    ['another entry point', ['node', 'dist/apps/gateway/src/main.js']],
    ['a wrapper', ['sh', '-c', 'node dist/apps/cds-hooks/src/main.js']],
  ])('refuses %s', (_what, command) => {
    expect(() => nodeArgsOf('cds-hooks', command)).toThrow(/the chart starts cds-hooks with .*node \[flags\]/);
  });
});

describe("the chart's runtime on this machine", () => {
  let rendered: ChartRuntime;
  beforeAll(async () => {
    rendered = await chartRuntime();
  });

  it('preloads jemalloc in cds-hooks and the proxy, and a Node process started with it runs on jemalloc', () => {
    expect(rendered['cds-hooks'].env.LD_PRELOAD).toBe(IMAGE_PATH);
    expect(rendered['inference-proxy'].env.LD_PRELOAD).toBe(IMAGE_PATH);
    expect(rendered.gateway.env.LD_PRELOAD).toBeUndefined();
    const host = hostRuntime(rendered)['cds-hooks'];
    const maps = execFileSync(
      process.execPath,
      ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/maps', 'utf8'))"],
      { env: { PATH: process.env.PATH, ...host.env }, encoding: 'utf8' },
    );
    expect(maps).toMatch(/libjemalloc\.so\.2/);
  });

  it("starts cds-hooks' Node with Maglev not inlining, as its container command does; the others without flags", () => {
    expect(rendered['cds-hooks'].nodeArgs).toEqual(['--no-maglev-inlining']);
    expect(rendered.gateway.nodeArgs).toEqual([]);
    expect(rendered['inference-proxy'].nodeArgs).toEqual([]);
    // execArgv ends with `-e <script>`; what comes before it is the chart's flags.
    const flag = execFileSync(
      process.execPath,
      [...rendered['cds-hooks'].nodeArgs, '-e', "process.stdout.write(process.execArgv.slice(0, -2).join(' '))"],
      { env: { PATH: process.env.PATH }, encoding: 'utf8' },
    );
    expect(flag).toBe('--no-maglev-inlining');
  });
});
