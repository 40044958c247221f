import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { ClientRegistry, type EhrClient } from '@app/clients';
import { AuthRefusal, CdsJwtVerifier, JwksCache, parseAlgorithmList, type ReplayGuard } from '@app/auth';

class MemoryReplay implements ReplayGuard {
  readonly seen = new Set<string>();
  async claim(issuer: string, jti: string): Promise<boolean> {
    const key = `${issuer}\n${jti}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
}

const ISS = 'https://ehr.example.test';
const AUD = 'https://cds.example.test/cds-services/meditron-patient-view';

describe('CdsJwtVerifier', () => {
  let privateJwk: JWK;
  let verifier: CdsJwtVerifier;

  beforeAll(async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    privateJwk = { ...(await exportJWK(privateKey)), kid: 'k1' };
    const client: EhrClient = {
      id: 'ehr',
      issuer: ISS,
      tenant: 't',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] },
      allowedJku: [],
      services: ['*'],
      fhirBaseUrls: [],
    };
    const registry = new ClientRegistry([client]);
    verifier = new CdsJwtVerifier(
      { findByIssuer: async (iss) => registry.byIssuer(iss) },
      new JwksCache({ cacheMaxAgeMs: 60_000, cooldownMs: 0, timeoutMs: 1000, maxEntries: 4 }),
      new MemoryReplay(),
      { algorithms: ['ES384', 'RS384'], clockSkewS: 60, maxLifetimeS: 3600 },
    );
  });

  const sign = async (claims: JWTPayload, exp: string | number = '5m') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES384', kid: 'k1', typ: 'JWT' })
      .setIssuer(ISS)
      .setIssuedAt()
      .setExpirationTime(exp)
      .setJti(crypto.randomUUID())
      .sign(await importJWK(privateJwk, 'ES384'));

  const code = async (p: Promise<unknown>) => p.then(() => 'accepted').catch((e: unknown) => (e as AuthRefusal).code);

  it('accepts an array aud and tolerates claims it does not know (Epic adds sub and nbf)', async () => {
    const token = await sign({ aud: [AUD], sub: 'epic-user', nbf: Math.floor(Date.now() / 1000), tenant: 'org-1' });
    await expect(verifier.verify(token, AUD)).resolves.toMatchObject({ client: { id: 'ehr' }, tenantClaim: 'org-1' });
  });

  it('tolerates clock skew within the window but not a token that lives too long', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await code(verifier.verify(await sign({ aud: AUD }, now - 30), AUD))).toBe('accepted');
    expect(await code(verifier.verify(await sign({ aud: AUD }, '1d'), AUD))).toBe('lifetime_too_long');
  });

  it('refuses garbage and tokens without a jti', async () => {
    expect(await code(verifier.verify('not.a.jwt', AUD))).toBe('malformed_token');
    const noJti = await new SignJWT({ aud: AUD })
      .setProtectedHeader({ alg: 'ES384', kid: 'k1' })
      .setIssuer(ISS)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(await importJWK(privateJwk, 'ES384'));
    expect(await code(verifier.verify(noJti, AUD))).toBe('claims_invalid');
  });

  it('never lets none or HMAC into the allow-list', () => {
    expect(() => parseAlgorithmList('ES384,HS256')).toThrow(/HS256 not allowed/);
    expect(() => parseAlgorithmList('none')).toThrow(/none not allowed/);
    expect(parseAlgorithmList(' RS384 , ES384 ')).toEqual(['RS384', 'ES384']);
  });
});

/** The `jku` header is a hint: the registered key wins; the jku is fetched only for a kid the registration lacks. */
describe('CdsJwtVerifier with a jku hint', () => {
  const served: string[] = [];
  let server: Server;
  let jkuUrl = '';
  let registeredKey: JWK;
  let rotatedKey: JWK;
  let verifier: CdsJwtVerifier;

  beforeAll(async () => {
    const reg = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const rot = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    registeredKey = { ...(await exportJWK(reg.privateKey)), kid: 'registered' };
    rotatedKey = { ...(await exportJWK(rot.privateKey)), kid: 'rotated' };
    const rotatedPublic = { ...(await exportJWK(rot.publicKey)), kid: 'rotated' };
    server = createServer((req, res) => {
      served.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [rotatedPublic] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jkuUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const client: EhrClient = {
      id: 'ehr',
      issuer: ISS,
      tenant: 't',
      jwks: { keys: [{ ...(await exportJWK(reg.publicKey)), kid: 'registered' }] },
      allowedJku: [jkuUrl],
      services: ['*'],
      fhirBaseUrls: [],
    };
    const registry = new ClientRegistry([client]);
    verifier = new CdsJwtVerifier(
      { findByIssuer: async (iss) => registry.byIssuer(iss) },
      new JwksCache({ cacheMaxAgeMs: 60_000, cooldownMs: 0, timeoutMs: 1000, maxEntries: 4 }),
      new MemoryReplay(),
      { algorithms: ['ES384'], clockSkewS: 60, maxLifetimeS: 3600 },
    );
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (served.length = 0));

  const sign = async (key: JWK, jku: string) =>
    new SignJWT({ aud: AUD })
      .setProtectedHeader({ alg: 'ES384', kid: key.kid!, jku })
      .setIssuer(ISS)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(crypto.randomUUID())
      .sign(await importJWK(key, 'ES384'));
  const code = async (p: Promise<unknown>) => p.then(() => 'accepted').catch((e: unknown) => (e as AuthRefusal).code);

  it('verifies a registered kid with the registered key and fetches nothing, even with an allow-listed jku', async () => {
    expect(await code(verifier.verify(await sign(registeredKey, jkuUrl), AUD))).toBe('accepted');
    expect(served).toEqual([]);
  });

  it('fetches the allow-listed jku for a kid the registration does not hold', async () => {
    expect(await code(verifier.verify(await sign(rotatedKey, jkuUrl), AUD))).toBe('accepted');
    expect(served).toEqual(['/jwks']);
  });

  it('still refuses a jku off the allow-list, even when the registered key would verify', async () => {
    expect(await code(verifier.verify(await sign(registeredKey, 'https://evil.example/jwks'), AUD))).toBe(
      'jku_not_allowed',
    );
    expect(served).toEqual([]);
  });
});
