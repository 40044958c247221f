/**
 * Deployed mode runs the apps as the container image does: compiled JavaScript (`npm run build`'s tsc + tsc-alias),
 * not through the benchmark's swc require hook (which alone adds ~35 MB RSS per process). The build goes to a
 * temporary directory (never the tree's dist/), once per tree and run.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { log } from './options';

const run = promisify(execFile);
const builds = new Map<string, Promise<string>>();
const made: string[] = [];

async function build(root: string): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'meditron-bench-dist-'));
  made.push(out);
  const bin = (...p: string[]): string => join(root, 'node_modules', ...p);
  const started = Date.now();
  const opts = { cwd: root, maxBuffer: 16 * 1024 * 1024 };
  await run(process.execPath, [bin('typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', out], opts);
  await run(
    process.execPath,
    [bin('tsc-alias', 'dist', 'bin', 'index.js'), '-p', 'tsconfig.build.json', '--outDir', out],
    opts,
  );
  const config = join(root, 'apps', 'cds-hooks', 'config');
  if (existsSync(config)) cpSync(config, join(out, 'apps', 'cds-hooks', 'config'), { recursive: true });
  // The compiled apps resolve their packages from here, as /app/node_modules in the image.
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');
  log(`  built ${root} into ${out} in ${Math.round((Date.now() - started) / 1000)} s`);
  return out;
}

/** The compiled tree of `root` (built on first use); rejects when it does not compile. */
export function compiledTree(root: string): Promise<string> {
  let b = builds.get(root);
  if (!b) {
    b = build(root);
    builds.set(root, b);
  }
  return b;
}

/** Removes the builds of this run. */
export function removeBuilds(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  builds.clear();
}
