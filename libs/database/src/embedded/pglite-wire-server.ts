import { createServer, type AddressInfo, type Server } from 'node:net';
import { PgliteConnection, type PgliteSession } from './pglite-connection';
import { PgliteSessionLock } from './pglite-session-lock';

export interface PgliteWireServerOptions {
  readonly db: PgliteSession;
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** See PgliteConnectionOptions.holdTimeoutMs. */
  readonly holdTimeoutMs: number;
}

/**
 * Postgres wire protocol in front of one PGlite instance, for clients that only speak TCP (pg, TypeORM).
 * PGlite has one session; every connection shares it, one unit of work at a time (PgliteSessionLock), so
 * an extended-protocol batch or a transaction of one client never interleaves with another's. It replaces
 * `@electric-sql/pglite-socket`'s server, whose queue interleaves such batches across connections (unnamed
 * statements and portals clobbered: electric-sql/pglite#1046) and refuses connections past a fixed maximum.
 */
export class PgliteWireServer {
  private readonly lock = new PgliteSessionLock();
  private readonly connections = new Set<PgliteConnection>();
  private server: Server | undefined;

  constructor(private readonly opts: PgliteWireServerOptions) {}

  async start(): Promise<number> {
    const server = createServer((socket) => {
      const c = new PgliteConnection(socket, this.opts.db, this.lock, {
        holdTimeoutMs: this.opts.holdTimeoutMs,
        onClose: (closed) => this.connections.delete(closed),
      });
      this.connections.add(c);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  /** Connections open now and connections waiting for the session (for tests and diagnostics). */
  stats(): { connections: number; waiting: number } {
    return { connections: this.connections.size, waiting: this.lock.waiting };
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
