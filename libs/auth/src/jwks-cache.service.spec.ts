import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, SignJWT, jwtVerify } from 'jose';
import { JwksCache } from './jwks-cache.service';

async function keyPair(kid: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES384' } };
}

const cache = () => new JwksCache({ cacheMaxAgeMs: 60_000, cooldownMs: 1_000, timeoutMs: 1_000, maxEntries: 4 });
const token = (k: Awaited<ReturnType<typeof keyPair>>) =>
  new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: k.publicJwk.kid }).sign(k.privateKey);

describe('JwksCache.localSet', () => {
  it('keeps one imported set per client while the registry entry is the same, or equal after a reload', async () => {
    const a = await keyPair('a');
    const keys = cache();
    const entry = { keys: [a.publicJwk] };
    const first = keys.localSet('ehr-1', entry);
    expect(keys.localSet('ehr-1', entry)).toBe(first);
    // A reload builds new objects with the same content: the imported set stays.
    expect(keys.localSet('ehr-1', JSON.parse(JSON.stringify(entry)) as typeof entry)).toBe(first);
    await expect(jwtVerify(await token(a), first)).resolves.toBeDefined();
  });

  it('rebuilds the set when the registry entry changes (a rotated key verifies, the old one no longer does)', async () => {
    const a = await keyPair('a');
    const b = await keyPair('b');
    const keys = cache();
    const before = keys.localSet('ehr-1', { keys: [a.publicJwk] });
    const after = keys.localSet('ehr-1', { keys: [b.publicJwk] });
    expect(after).not.toBe(before);
    await expect(jwtVerify(await token(b), after)).resolves.toBeDefined();
    await expect(jwtVerify(await token(a), after)).rejects.toThrow();
  });
});
