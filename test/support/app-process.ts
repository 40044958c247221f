/**
 * One app (gateway, cds-hooks or inference-proxy) as its own OS process, started from the test build
 * (`ensureAppsBuilt`) exactly as production starts it: `node [flags] <build>/apps/<app>/src/main.js` with its
 * environment.
 * It binds 127.0.0.1 on a port chosen up front, is ready when `GET /health/ready` answers 200, and can be stopped
 * gracefully (SIGTERM, bounded) or killed outright (SIGKILL). Its output goes to a log file for post-mortems.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { appEntry } from './app-build';

export type AppName = 'gateway' | 'cds-hooks' | 'inference-proxy';

const PORT_VARIABLE: Record<AppName, string> = {
  gateway: 'GATEWAY_PORT',
  'cds-hooks': 'CDS_HOOKS_PORT',
  'inference-proxy': 'INFERENCE_PROXY_PORT',
};

export interface AppProcessOptions {
  readonly dist: string;
  readonly app: AppName;
  readonly env: Record<string, string>;
  /** Node's arguments before the entry point (the chart's runtime.v8Flags: `node <flags> main.js`). */
  readonly nodeArgs?: readonly string[];
  /** Where stdout and stderr are appended. */
  readonly logFile: string;
  /** A port to reuse (a restart); by default a free one. */
  readonly port?: number;
  readonly readyTimeoutMs?: number;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Every child still running; SIGKILLed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class AppProcess {
  private exitInfo: ExitInfo | undefined;

  private constructor(
    readonly app: AppName,
    readonly url: string,
    readonly port: number,
    private readonly child: ChildProcess,
    readonly exited: Promise<ExitInfo>,
  ) {
    void exited.then((info) => (this.exitInfo = info));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  static async start(opts: AppProcessOptions): Promise<AppProcess> {
    const port = opts.port ?? (await freePort());
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const log = fs.openSync(opts.logFile, 'a');
    fs.writeSync(log, `\n=== ${new Date().toISOString()} start ${opts.app} on ${port}\n`);
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), appEntry(opts.dist, opts.app)], {
      env: {
        PATH: process.env.PATH ?? '',
        // Replicas of one app share the machine: each metrics listener on a free port unless a test says otherwise.
        METRICS_PORT: '0',
        ...opts.env,
        [PORT_VARIABLE[opts.app]]: String(port),
        BIND_HOST: '127.0.0.1',
      },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    live.add(child);
    child.once('exit', () => live.delete(child));
    const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const proc = new AppProcess(opts.app, `http://127.0.0.1:${port}`, port, child, exited);
    try {
      await proc.waitReady(opts.readyTimeoutMs ?? 30_000);
    } catch (e) {
      await proc.kill();
      throw new Error(`${opts.app}: ${e instanceof Error ? e.message : String(e)}; see ${opts.logFile}`);
    }
    return proc;
  }

  /** Polls `GET /health/ready` until it answers 200; fails early if the process exits. */
  async waitReady(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (!this.running) throw new Error(`exited before it was ready (${JSON.stringify(this.exitInfo)})`);
      try {
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(1_000) });
        if (res.status === 200) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`not ready within ${timeoutMs} ms`);
  }

  /** SIGKILL: no shutdown hook runs, nothing is drained or committed. */
  async kill(): Promise<ExitInfo> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM (the app drains and exits), then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<ExitInfo> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
