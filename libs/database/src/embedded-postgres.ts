import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PgliteWireServer } from './embedded/pglite-wire-server';

export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/** A client holding the one session this long without finishing its transaction or batch is cut off. */
const HOLD_TIMEOUT_MS = 15_000;

/**
 * PGlite behind a Postgres wire-protocol socket, for the local stack when DATABASE_URL is unset.
 * Data is kept in `dataDir` across runs. PGlite is single-connection: every client connection shares its one
 * session, one unit of work (a Sync-terminated batch, or a whole transaction) at a time; the others queue.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  holdTimeoutMs?: number;
}): Promise<EmbeddedPostgres> {
  mkdirSync(opts.dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir: opts.dataDir });
  const server = new PgliteWireServer({
    db,
    host: '127.0.0.1',
    port: opts.port ?? 0,
    holdTimeoutMs: opts.holdTimeoutMs ?? HOLD_TIMEOUT_MS,
  });
  const port = await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
