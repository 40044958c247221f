import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { ChainHeadPublisher, type PublishedHead } from '@app/audit';
import { DataSource } from 'typeorm';
import { startGateway } from '../../apps/gateway/src/bootstrap';
import { loadGatewayConfig } from '../../apps/gateway/src/gateway.config';
import { createDataSource, runMigrations } from '@app/database';
import type { RunningApp } from '@app/observability';
import { JwksServer, makeTestKey, signToken, type TestKey } from './ehr-tokens';
import { createTestDatabase, type TestDatabase } from './postgres';
import { runtimeUrls } from './runtime-roles';
import { TEST_INTERNAL_TOKEN_SECRET } from './stack-env';

const STAFF_ISS = 'https://idp.example.test/realms/meditron';
const STAFF_AUD = 'meditron-gateway';

export interface ComplianceHarness {
  readonly url: string;
  readonly db: TestDatabase;
  /** The gateway's own connection pool (its runtime login). */
  readonly dataSource: DataSource;
  /** A pool on cds-hooks' runtime login, to write what cds-hooks would (hook calls, cards, inference rows). */
  readonly cdsHooksDataSource: DataSource;
  /** Signs a checkpoint of the chain head now (the gateway's own publisher, key `test-checkpoint-key`). */
  publishChainHead(): Promise<PublishedHead>;
  /** The checkpoint sink file the gateway appends to. */
  readonly checkpointSinkFile: string;
  /** A staff bearer token for `sub` with the given roles. */
  staffToken(sub: string, roles: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** The whole gateway (staff OIDC against a local JWKS) over its own migrated database: the compliance API and console. */
export async function startComplianceHarness(): Promise<ComplianceHarness> {
  Logger.overrideLogger(false);
  const db = await createTestDatabase('compliance_e2e');
  const idp = await new JwksServer().start();
  const key: TestKey = await makeTestKey('RS256');
  const jwksUrl = idp.publish('/certs', [key.publicJwk]);
  // Signed checkpoints as in production: a key file and an append-only sink outside the database.
  const keyDir = mkdtempSync(join(tmpdir(), 'meditron-compliance-'));
  const keyFile = join(keyDir, 'checkpoint.key');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const checkpointEnv = {
    AUDIT_CHECKPOINT_KEY_FILE: keyFile,
    AUDIT_CHECKPOINT_KEY_ID: 'test-checkpoint-key',
    AUDIT_CHECKPOINT_SINK_PATH: join(keyDir, 'checkpoints.jsonl'),
  };
  let running: RunningApp | undefined;
  let cdsHooksDataSource: DataSource | undefined;
  try {
    await runMigrations(db.url);
    const urls = await runtimeUrls(db.url);
    cdsHooksDataSource = createDataSource({ url: urls.cdsHooks, poolSize: 2, applicationName: 'test-cds-hooks' });
    await cdsHooksDataSource.initialize();
    const config = loadGatewayConfig({
      LOG_LEVEL: 'silent',
      GATEWAY_PORT: '0',
      METRICS_PORT: '0',
      PUBLIC_BASE_URL: 'https://cds.example.test',
      DB_POOL_SIZE: '4',
      STAFF_OIDC_ISSUER: STAFF_ISS,
      STAFF_OIDC_JWKS_URL: jwksUrl,
      STAFF_OIDC_AUDIENCE: STAFF_AUD,
      INTERNAL_TOKEN_SECRET: TEST_INTERNAL_TOKEN_SECRET,
    });
    // The compliance module reads its variables from the process environment at boot (compliance.config.ts).
    const saved = { ...process.env };
    Object.assign(process.env, checkpointEnv);
    try {
      running = await startGateway({ config, databaseUrl: urls.gateway }, '127.0.0.1');
    } finally {
      for (const k of Object.keys(checkpointEnv)) if (saved[k] === undefined) delete process.env[k];
    }
  } catch (e) {
    if (cdsHooksDataSource?.isInitialized) await cdsHooksDataSource.destroy();
    rmSync(keyDir, { recursive: true, force: true });
    await idp.close();
    await db.drop();
    throw e;
  }
  const app = running;
  const seeder = cdsHooksDataSource;
  return {
    url: app.url,
    db,
    dataSource: app.app.get(DataSource),
    cdsHooksDataSource: seeder,
    publishChainHead: () => app.app.get(ChainHeadPublisher).publish(),
    checkpointSinkFile: checkpointEnv.AUDIT_CHECKPOINT_SINK_PATH,
    staffToken: (sub, roles) => signToken(key, { issuer: STAFF_ISS, audience: STAFF_AUD, extraClaims: { sub, roles } }),
    async stop() {
      await app.close();
      await seeder.destroy();
      await idp.close();
      rmSync(keyDir, { recursive: true, force: true });
      await db.drop();
    },
  };
}
