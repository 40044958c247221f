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

  it('refuses to register a FHIR base with user info, and leaves the file as it was', async () => {
    const store = new ClientFileStore(join(dir, 'fhir-base.json'));
    const ok = ehrClientSchema.parse({ id: 'b', issuer: 'https://b', fhirBaseUrls: ['https://ehr.example/fhir'] });
    await store.upsert(ok);
    const sneaky = { ...ok, fhirBaseUrls: ['http://evil@ehr.example/fhir'] } as typeof ok;
    await expect(store.upsert(sneaky)).rejects.toThrow(/FHIR base URL must not carry user info/);
    expect(await store.list()).toEqual([ok]);
  });

  it('refuses a registry where two clients share an issuer', () => {
    const c = (id: string) => ({ id, issuer: 'https://same' });
    expect(() => ClientRegistry.fromJson({ clients: [c('a'), c('b')] })).toThrow(/share an issuer/);
  });
});
