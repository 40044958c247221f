import { importEsm } from './esm-import';

describe('importEsm', () => {
  it('loads an ESM-only package that require() cannot load', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- proving require() is the thing that fails.
    expect(() => require('fhir-kit-client')).toThrow();
    const mod = await importEsm<{ Client: unknown }>('fhir-kit-client');
    expect(typeof mod.Client).toBe('function');
  });
});
