import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { EhrClient } from '@app/clients';
import { ClientTableStore } from '@app/clients';
import { createDataSource } from '@app/database';
import type { LocalStack } from '../../tools/local-stack/local-stack';
import { mintClientToken } from '../../tools/dev-token/mint';

export interface TestKey {
  readonly kid: string;
  readonly alg: 'ES384' | 'RS384' | 'RS256';
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  /** SPKI PEM of the public key (for the HS256-with-the-public-key attack). */
  readonly publicPem: string;
}

export async function makeTestKey(
  alg: TestKey['alg'],
  kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`,
): Promise<TestKey> {
  const { publicKey, privateKey } =
    alg === 'ES384'
      ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg };
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { kid, alg, privateJwk, publicJwk, publicPem };
}

export interface TokenOptions {
  readonly issuer: string;
  readonly audience: string | string[];
  /** Seconds from now; negative for an expired token. */
  readonly expIn?: number;
  /** Seconds from now; positive for a token issued in the future. */
  readonly iatIn?: number;
  readonly jti?: string;
  readonly jku?: string;
  readonly kid?: string;
  readonly extraClaims?: JWTPayload;
  /** The `typ` header (default `JWT`). */
  readonly typ?: string;
}

/** A signed CDS Hooks client JWT with whatever deviation a test wants. */
export async function signToken(key: TestKey, o: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...o.extraClaims })
    .setProtectedHeader({ alg: key.alg, kid: o.kid ?? key.kid, typ: o.typ ?? 'JWT', ...(o.jku ? { jku: o.jku } : {}) })
    .setIssuer(o.issuer)
    .setAudience(o.audience)
    .setIssuedAt(now + (o.iatIn ?? 0))
    .setExpirationTime(now + (o.expIn ?? 300))
    .setJti(o.jti ?? randomUUID())
    .sign(await importJWK(key.privateJwk, key.alg));
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function claims(o: TokenOptions): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: o.issuer, aud: o.audience, iat: now, exp: now + 300, jti: randomUUID() };
}

/** `alg: none`: no signature at all. */
export function unsignedToken(o: TokenOptions, kid = 'any'): string {
  return `${b64url({ alg: 'none', typ: 'JWT', kid })}.${b64url(claims(o))}.`;
}

/** HS256 keyed with the client's public key PEM: the classic algorithm-confusion attack. */
export function hmacWithPublicKey(key: TestKey, o: TokenOptions): string {
  const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64url(claims(o))}`;
  return `${input}.${createHmac('sha256', key.publicPem).update(input).digest('base64url')}`;
}

/** A valid token whose payload is swapped for another after signing. */
export function tamperPayload(token: string, change: (p: JWTPayload) => JWTPayload): string {
  const [header, payload, signature] = token.split('.');
  const decoded = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as JWTPayload;
  return `${header}.${b64url(change(decoded))}.${signature}`;
}

/** A JWKS endpoint on a local port; the key sets it serves can be swapped at run time (rotation). */
export class JwksServer {
  private readonly sets = new Map<string, { keys: JWK[] }>();
  private server: Server | undefined;
  url = '';
  fetches = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const set = this.sets.get(req.url ?? '');
      this.fetches++;
      if (!set) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(set));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Serves `keys` at `path`; returns the full URL. */
  publish(path: string, keys: JWK[]): string {
    this.sets.set(path, { keys });
    return `${this.url}${path}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Registers clients through the same table the `ehr-clients` command writes. */
export async function registerClients(databaseUrl: string, clients: EhrClient[]): Promise<void> {
  const ds = createDataSource({ url: databaseUrl, poolSize: 1 });
  await ds.initialize();
  try {
    const store = new ClientTableStore(ds);
    for (const c of clients) await store.upsert(c);
  } finally {
    await ds.destroy();
  }
}

/** A token from the local stack's registered development client, for one call to `path` (e.g. /cds-services/x). */
export function stackToken(stack: LocalStack, path: string): Promise<string> {
  return mintClientToken(stack.devEhrClient, {
    issuer: stack.devEhrClient.issuer,
    audience: `${stack.publicBaseUrl}${path}`,
    ttlS: 300,
  });
}
