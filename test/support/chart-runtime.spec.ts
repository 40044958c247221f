// The deployed benchmark's runtime per app (bench/lib/chart-runtime.ts): specced here because the unit-test roots
// leave bench/ out. The chart preloads jemalloc from the image's path; a process on this machine must get the same
// library from wherever Debian put it, or the benchmark must refuse to run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartRuntime, hostLibrary, hostRuntime, type ChartRuntime } from '../../bench/lib/chart-runtime';

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
      gateway: { NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '2' },
      'cds-hooks': { LD_PRELOAD: '/nowhere/libjemalloc.so.2', MALLOC_ARENA_MAX: '2' },
      'inference-proxy': {},
    };
    const listing = `\tlibjemalloc.so.2 (libc6,x86-64) => ${lib}`;
    expect(hostRuntime(rendered, () => listing)).toEqual({
      gateway: { NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '2' },
      'cds-hooks': { LD_PRELOAD: lib, MALLOC_ARENA_MAX: '2' },
      'inference-proxy': {},
    });
  });
});

describe("the chart's runtime on this machine", () => {
  it('preloads jemalloc in cds-hooks and the proxy, and a Node process started with it runs on jemalloc', async () => {
    const rendered = await chartRuntime();
    expect(rendered['cds-hooks'].LD_PRELOAD).toBe(IMAGE_PATH);
    expect(rendered['inference-proxy'].LD_PRELOAD).toBe(IMAGE_PATH);
    expect(rendered.gateway.LD_PRELOAD).toBeUndefined();
    const host = hostRuntime(rendered)['cds-hooks'];
    const maps = execFileSync(
      process.execPath,
      ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/maps', 'utf8'))"],
      { env: { PATH: process.env.PATH, ...host }, encoding: 'utf8' },
    );
    expect(maps).toMatch(/libjemalloc\.so\.2/);
  });
});
