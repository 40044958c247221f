import { createServer } from 'node:net';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { startGateway } from '../../apps/gateway/src/bootstrap';
import { loadGatewayConfig } from '../../apps/gateway/src/gateway.config';
import { runMigrations } from '@app/database';
import type { RunningApp } from '@app/observability';
import { startDevIdp, type DevIdp } from '../../tools/dev-idp/dev-idp';
import type { DevIdpUser } from '../../tools/dev-idp/dev-idp-users';
import { createTestDatabase, type TestDatabase } from './postgres';
import { TEST_INTERNAL_TOKEN_SECRET } from './stack-env';

const AUDIENCE = 'urn:meditron:gateway';

/** The people of the browser suites: one per role, and one the organisation knows but gave no role. */
export const CONSOLE_USERS: ReadonlyArray<DevIdpUser> = [
  { username: 'compliance', password: 'compliance-test-pw', name: 'Casey Compliance', roles: ['compliance'] },
  { username: 'admin', password: 'admin-test-pw-123', name: 'Alex Admin', roles: ['admin'] },
  { username: 'visitor', password: 'visitor-test-pw-1', name: 'Vic Visitor', roles: [] },
];

export interface ConsoleHarness {
  readonly url: string;
  readonly idp: DevIdp;
  readonly db: TestDatabase;
  readonly dataSource: DataSource;
  stop(): Promise<void>;
}

/**
 * The gateway with console sign-in against the development OIDC provider (the one `npm start` runs), over its own
 * migrated database. The gateway's port is chosen first: the redirect URI registered at the provider names it.
 */
export async function startConsoleHarness(opts: { accessTokenTtlS?: number } = {}): Promise<ConsoleHarness> {
  Logger.overrideLogger(false);
  const db = await createTestDatabase('console_e2e');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const idp = await startDevIdp({
    port: 0,
    host: '127.0.0.1',
    audience: AUDIENCE,
    users: CONSOLE_USERS,
    accessTokenTtlS: opts.accessTokenTtlS ?? 600,
    client: {
      id: 'meditron-console',
      secret: 'console-test-secret',
      redirectUris: [`${base}/console/auth/callback`],
      postLogoutRedirectUris: [`${base}/console`],
    },
  });
  let running: RunningApp | undefined;
  try {
    await runMigrations(db.url);
    const config = loadGatewayConfig({
      LOG_LEVEL: 'silent',
      GATEWAY_PORT: String(port),
      METRICS_PORT: '0',
      PUBLIC_BASE_URL: base,
      DB_POOL_SIZE: '4',
      STAFF_OIDC_ISSUER: idp.issuer,
      STAFF_OIDC_JWKS_URL: idp.jwksUrl,
      STAFF_OIDC_AUDIENCE: AUDIENCE,
      CONSOLE_OIDC_CLIENT_ID: 'meditron-console',
      CONSOLE_OIDC_CLIENT_SECRET: 'console-test-secret',
      CONSOLE_OIDC_SCOPES: 'openid profile offline_access',
      INTERNAL_TOKEN_SECRET: TEST_INTERNAL_TOKEN_SECRET,
    });
    running = await startGateway({ config, databaseUrl: db.url }, '127.0.0.1');
  } catch (e) {
    await idp.close();
    await db.drop();
    throw e;
  }
  const app = running;
  return {
    url: app.url.replace('localhost', '127.0.0.1').replace('[::1]', '127.0.0.1'),
    idp,
    db,
    dataSource: app.app.get(DataSource),
    async stop() {
      await app.close();
      await idp.close();
      await db.drop();
    },
  };
}

function freePort(): Promise<number> {
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
