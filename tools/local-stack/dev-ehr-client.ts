import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { z } from 'zod';
import type { EhrClient } from '@app/clients';
import type { SigningKey } from '../dev-token/mint';

export const DEV_CLIENT_ID = 'local-dev-ehr';
export const DEV_ISSUER = 'http://localhost/dev-ehr';
/** FHIR servers cds-hooks may call back for the dev client (a local FHIR server, when you run one). */
export const DEV_FHIR_BASE_URLS = ['http://127.0.0.1:8095/fhir', 'http://localhost:8095/fhir'];

const KEY_FILE = 'private-key.jwk.json';
const CLIENT_FILE = 'client.json';

const devClientFile = z.object({
  clientId: z.string(),
  issuer: z.string(),
  kid: z.string(),
  alg: z.string(),
  publicBaseUrl: z.string(),
});

export interface DevEhrClient extends SigningKey {
  readonly dir: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly publicBaseUrl: string;
  readonly publicJwk: JWK;
}

export function defaultDevClientDir(): string {
  return process.env.DEV_EHR_CLIENT_DIR ?? join(process.cwd(), '.local', 'dev-ehr-client');
}

/** The local development EHR client's ES384 key pair: generated on first start, reused after. */
export async function ensureDevEhrClient(dir: string, publicBaseUrl: string): Promise<DevEhrClient> {
  const keyPath = join(dir, KEY_FILE);
  let privateJwk: JWK;
  let kid: string;
  if (existsSync(keyPath)) {
    privateJwk = JSON.parse(readFileSync(keyPath, 'utf8')) as JWK;
    kid = privateJwk.kid ?? 'local-dev-ehr-1';
  } else {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = await generateKeyPair('ES384', { extractable: true });
    kid = `local-dev-ehr-${randomUUID().slice(0, 8)}`;
    privateJwk = { ...(await exportJWK(pair.privateKey)), kid, alg: 'ES384', use: 'sig' };
    writeFileSync(keyPath, JSON.stringify(privateJwk, null, 2) + '\n', { mode: 0o600 });
    chmodSync(keyPath, 0o600);
  }
  const publicJwk = publicPart(privateJwk);
  const client = { clientId: DEV_CLIENT_ID, issuer: DEV_ISSUER, kid, alg: 'ES384', publicBaseUrl };
  writeFileSync(join(dir, CLIENT_FILE), JSON.stringify(client, null, 2) + '\n');
  return { ...client, dir, privateJwk, publicJwk };
}

/** Reads what `npm start` wrote (for the dev-token command). */
export function readDevEhrClient(dir: string): DevEhrClient {
  const keyPath = join(dir, KEY_FILE);
  if (!existsSync(keyPath)) {
    throw new Error(`no development EHR client in ${dir}: run \`npm start\` once first`);
  }
  const privateJwk = JSON.parse(readFileSync(keyPath, 'utf8')) as JWK;
  const client = devClientFile.parse(JSON.parse(readFileSync(join(dir, CLIENT_FILE), 'utf8')));
  return { ...client, dir, privateJwk, publicJwk: publicPart(privateJwk) };
}

/** The registry entry: inline public key, every service, the local FHIR base URLs. */
export function devClientRegistration(dev: DevEhrClient): EhrClient {
  return {
    id: dev.clientId,
    issuer: dev.issuer,
    tenant: 'local-dev',
    jwks: { keys: [{ ...dev.publicJwk }] },
    allowedJku: [],
    services: ['*'],
    fhirBaseUrls: DEV_FHIR_BASE_URLS,
  };
}

/** The public members of an EC or RSA JWK; private ones (d, p, q, ...) never leave the key file. */
export function publicPart(jwk: JWK): JWK {
  const out: JWK = { kty: jwk.kty };
  for (const member of ['crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use'] as const) {
    const v = jwk[member];
    if (typeof v === 'string') out[member] = v;
  }
  return out;
}
