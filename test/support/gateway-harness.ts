import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '../../apps/gateway/src/bootstrap';
import { loadGatewayConfig } from '../../apps/gateway/src/gateway.config';
import type { EhrClient } from '@app/clients';
import type { Env } from '@app/config';
import { runMigrations } from '@app/database';
import type { RunningApp } from '@app/observability';
import { registerClients } from './ehr-tokens';
import { TEST_INTERNAL_TOKEN_SECRET } from './stack-env';
import { runtimeUrls } from './runtime-roles';
import { createTestDatabase, type TestDatabase } from './postgres';

export interface UpstreamCall {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A tiny HTTP server standing in for cds-hooks: records what reaches it and answers like it. */
export class UpstreamStub {
  readonly calls: UpstreamCall[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        this.calls.push({
          method: req.method ?? '',
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        const body =
          path === '/cds-services'
            ? { services: [{ id: 'meditron-patient-view', hook: 'patient-view', description: 'stub' }] }
            : path.endsWith('/feedback')
              ? {}
              : { cards: [] };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface GatewayHarness {
  readonly url: string;
  /** PUBLIC_BASE_URL: base of every `aud`. */
  readonly publicBaseUrl: string;
  readonly db: TestDatabase;
  readonly upstream: UpstreamStub;
  /** Shuts the gateway down (as on SIGTERM) and leaves the database, so what shutdown wrote can be read. */
  closeGateway(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The gateway alone, in-process, over real HTTP and a real Postgres database of its own, forwarding to an
 * upstream stub. Clients are registered in the `ehr_clients` table before it starts.
 */
export async function startGatewayHarness(opts: { clients: EhrClient[]; env?: Env }): Promise<GatewayHarness> {
  const db = await createTestDatabase('gateway_e2e');
  const upstream = await new UpstreamStub().start();
  let app: RunningApp | undefined;
  let publicBaseUrl = '';
  try {
    await runMigrations(db.url);
    await registerClients(db.url, opts.clients);
    const config = loadGatewayConfig({
      LOG_LEVEL: 'silent',
      GATEWAY_PORT: '0',
      METRICS_PORT: '0',
      PUBLIC_BASE_URL: 'https://cds.example.test',
      CDS_HOOKS_URL: upstream.url,
      DB_POOL_SIZE: '4',
      INTERNAL_TOKEN_SECRET: TEST_INTERNAL_TOKEN_SECRET,
      ...opts.env,
    });
    // The gateway's own runtime login, never the owner (issue 14).
    app = await startGateway({ config, databaseUrl: (await runtimeUrls(db.url)).gateway }, '127.0.0.1');
    publicBaseUrl = config.PUBLIC_BASE_URL;
  } catch (e) {
    await upstream.close();
    await db.drop();
    throw e;
  }
  const running = app;
  let closing: Promise<void> | undefined;
  const closeGateway = () => (closing ??= running.close());
  return {
    url: running.url,
    publicBaseUrl,
    db,
    upstream,
    closeGateway,
    async stop() {
      await closeGateway();
      await upstream.close();
      await db.drop();
    },
  };
}
