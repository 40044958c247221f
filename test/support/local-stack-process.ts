/**
 * `npm start` as a test runs it: the local stack's entry point (`<build>/tools/local-stack/main.js`, all three apps
 * in one process) as its own OS process, for suites that need what only a fresh process has (the OpenTelemetry SDK
 * registered before the apps' modules load). Ready when the gateway's `GET /health/ready` answers 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export class LocalStackProcess {
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly gatewayUrl: string,
    private readonly done: Promise<void>,
  ) {
    void done.then(() => (this.exited = true));
  }

  static async start(opts: {
    dist: string;
    env: Record<string, string>;
    gatewayPort: number;
    logFile: string;
  }): Promise<LocalStackProcess> {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const log = fs.openSync(opts.logFile, 'a');
    const child = spawn(process.execPath, [path.join(opts.dist, 'tools', 'local-stack', 'main.js')], {
      env: { PATH: process.env.PATH ?? '', ...opts.env, GATEWAY_PORT: String(opts.gatewayPort) },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stack = new LocalStackProcess(child, `http://127.0.0.1:${opts.gatewayPort}`, done);
    try {
      await stack.waitReady(60_000);
    } catch (e) {
      await stack.stop();
      throw new Error(`local stack: ${e instanceof Error ? e.message : String(e)}; see ${opts.logFile}`);
    }
    return stack;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.exited) throw new Error('exited before it was ready');
      try {
        const res = await fetch(`${this.gatewayUrl}/health/ready`, { signal: AbortSignal.timeout(1_000) });
        if (res.status === 200) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`not ready within ${timeoutMs} ms`);
  }

  /** SIGTERM (the stack stops and flushes its spans), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.done;
    clearTimeout(timer);
  }
}
