import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientFileStore, ClientRegistry, ehrClientSchema } from '@app/clients';

describe('ClientFileStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ehr-clients-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds, replaces, lists and removes clients; a missing file is an empty registry', async () => {
    const store = new ClientFileStore(join(dir, 'clients.json'));
    expect(await store.list()).toEqual([]);
    const a = ehrClientSchema.parse({ id: 'a', issuer: 'https://a', jwksUrl: 'https://a/jwks' });
    await store.upsert(a);
    await store.upsert({ ...a, tenant: 'changed' });
    expect(await store.list()).toEqual([{ ...a, tenant: 'changed' }]);
    expect(await store.remove('a')).toBe(true);
    expect(await store.remove('a')).toBe(false);
  });

  it('refuses a registry where two clients share an issuer', () => {
    const c = (id: string) => ({ id, issuer: 'https://same' });
    expect(() => ClientRegistry.fromJson({ clients: [c('a'), c('b')] })).toThrow(/share an issuer/);
  });
});
