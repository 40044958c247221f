import { generateKeyPairSync } from 'node:crypto';
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
