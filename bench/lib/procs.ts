import { fork, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { LoadJob, LoadResult, WorkerReply } from './types';

export { rssOf, sampleRss } from './usage';

export const BENCH_DIR = join(__dirname, '..');
export const REPO_DIR = join(BENCH_DIR, '..');

/**
 * Forks a TypeScript entry under bench/ with the swc hook. `root` is the repository whose bench/ entry and code
 * run (default: this tree; a baseline run passes its temporary worktree of another git ref).
 */
export function forkTs(
  entry: string,
  env: Record<string, string | undefined>,
  opts: { execArgv?: string[]; stdio?: 'ignore' | 'inherit'; root?: string } = {},
): ChildProcess {
  const root = opts.root ?? REPO_DIR;
  return fork(join(root, 'bench', entry), [], {
    cwd: root,
    env: env as NodeJS.ProcessEnv,
    execArgv: ['--require', join(root, 'bench', 'register.js'), ...(opts.execArgv ?? [])],
    stdio: [opts.stdio ?? 'ignore', opts.stdio ?? 'ignore', 'pipe', 'ipc'],
  });
}

/** Waits for the first IPC message whose `type` is ready/failed; rejects on exit or timeout. */
export function waitReady<T extends { type: string }>(
  child: ChildProcess,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready: ${stderr}`));
    });
    child.on('message', (m: T) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m);
      } else if (m.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${what} failed: ${JSON.stringify(m)} ${stderr}`));
      }
    });
  });
}

/** Asks a child to stop ('stop' message), then SIGKILLs it if it has not exited in time. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 20_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    if (child.connected) child.send('stop');
    else child.kill('SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The load generator child process. */
export class LoadGenerator {
  private child: ChildProcess | undefined;
  private seq = 0;
  private readonly pending = new Map<number, { resolve(r: LoadResult): void; reject(e: Error): void }>();

  start(): void {
    // --expose-gc: the worker collects before each step's window (load-worker.ts collectBeforeWindow).
    this.child = forkTs('load-worker.ts', { ...process.env, NODE_ENV: 'production' }, { execArgv: ['--expose-gc'] });
    let stderr = '';
    this.child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-2000);
    });
    this.child.on('message', (m: WorkerReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    this.child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`load generator exited (${code}): ${stderr}`));
      this.pending.clear();
      this.child = undefined;
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  run(job: LoadJob, budgetMs?: number): Promise<LoadResult> {
    if (!this.child) this.start();
    const id = ++this.seq;
    const limit = budgetMs ?? job.durationS * 1000 + job.timeoutMs + 120_000;
    return new Promise<LoadResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // A stuck generator is replaced for the next step.
        this.child?.kill('SIGKILL');
        reject(new Error(`load step ${job.name} exceeded ${limit} ms`));
      }, limit);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child!.send({ id, job });
    });
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c) return;
    c.kill('SIGTERM');
    await new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r())));
  }
}

/** Starts a plain command (Portkey's gateway, an app's main.ts); resolves once `probe` answers. */
export async function spawnService(
  cmd: string,
  args: string[],
  probe: () => Promise<boolean>,
  timeoutMs: number,
  opts: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<ChildProcess> {
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? REPO_DIR,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: (opts.env ?? process.env) as NodeJS.ProcessEnv,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-2000);
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited (${child.exitCode}): ${stderr}`);
    if (await probe().catch(() => false)) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`${cmd} ${args.join(' ')} did not come up within ${timeoutMs} ms: ${stderr}`);
}
