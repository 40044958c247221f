/**
 * A compiled copy of the apps for suites that run them as separate OS processes (SIGKILL, restart, replicas).
 *
 * It is built with the same compiler settings as `npm run build` (tsc + tsc-alias on tsconfig.build.json), but
 * into its own directory (`.local/test-dist`, gitignored), so it never removes or races the `dist/` another
 * developer or tool is using. It is rebuilt only when a source file is newer than the last build, and a lock
 * directory makes concurrent callers (parallel jest workers) wait for one build instead of starting their own.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const REPO = path.join(__dirname, '..', '..');
export const TEST_DIST = path.join(REPO, '.local', 'test-dist');
const MARKER = path.join(TEST_DIST, '.built');
const LOCK = path.join(REPO, '.local', 'test-dist.lock');
const SOURCE_ROOTS = ['apps', 'libs', 'tools'].map((d) => path.join(REPO, d));
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) => path.join(REPO, f));
const BUILD_TIMEOUT_MS = 180_000;
const LOCK_STALE_MS = 240_000;

function newestSourceMtime(): number {
  let newest = 0;
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (/\.(ts|json)$/.test(entry.name) && !entry.name.endsWith('.spec.ts'))
        newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  for (const root of SOURCE_ROOTS) visit(root);
  for (const f of CONFIG_FILES) if (fs.existsSync(f)) newest = Math.max(newest, fs.statSync(f).mtimeMs);
  return newest;
}

function upToDate(): boolean {
  return fs.existsSync(MARKER) && fs.statSync(MARKER).mtimeMs >= newestSourceMtime();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function acquireLock(): Promise<void> {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const end = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      return;
    } catch {
      const age = Date.now() - (fs.statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) fs.rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > end) throw new Error(`app build: lock ${LOCK} held for more than ${BUILD_TIMEOUT_MS} ms`);
      await sleep(250);
    }
  }
}

async function run(bin: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(path.join(REPO, 'node_modules', '.bin', bin), args, {
      cwd: REPO,
      timeout: BUILD_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (e) {
    const out = e && typeof e === 'object' && 'stdout' in e ? String((e as { stdout: unknown }).stdout) : '';
    throw new Error(`app build: ${bin} ${args.join(' ')} failed\n${out.slice(0, 4000)}`, { cause: e });
  }
}

/** Builds the apps into TEST_DIST unless that build is current; returns TEST_DIST. */
export async function ensureAppsBuilt(): Promise<string> {
  if (upToDate()) return TEST_DIST;
  await acquireLock();
  try {
    if (upToDate()) return TEST_DIST; // another worker built it while this one waited
    // Stamped with the start time: a source saved during the build makes the next call rebuild.
    const startedAt = new Date();
    fs.rmSync(TEST_DIST, { recursive: true, force: true });
    await run('tsc', ['-p', 'tsconfig.build.json', '--outDir', TEST_DIST]);
    await run('tsc-alias', ['-p', 'tsconfig.build.json', '--outDir', TEST_DIST]);
    fs.cpSync(path.join(REPO, 'apps', 'cds-hooks', 'config'), path.join(TEST_DIST, 'apps', 'cds-hooks', 'config'), {
      recursive: true,
    });
    fs.writeFileSync(MARKER, startedAt.toISOString());
    fs.utimesSync(MARKER, startedAt, startedAt);
    return TEST_DIST;
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

/** The entry point of one app in the test build. */
export function appEntry(dist: string, app: 'gateway' | 'cds-hooks' | 'inference-proxy'): string {
  return path.join(dist, 'apps', app, 'src', 'main.js');
}
