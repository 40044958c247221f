import { ClientRegistry } from '@app/clients';

describe('ClientRegistry', () => {
  const registry = ClientRegistry.fromJson({
    clients: [
      {
        id: 'epic-a',
        issuer: 'https://ehr.example.org',
        fhirBaseUrls: ['https://FHIR.example.org/R4/'],
        services: ['meditron-patient-view'],
      },
    ],
  });

  it('allows only the FHIR base URLs listed for the client, whatever the trailing slash or host case', () => {
    expect(registry.allowsFhirServer('epic-a', 'https://fhir.example.org/R4')).toBe(true);
    expect(registry.allowsFhirServer('epic-a', 'https://fhir.example.org/R4/')).toBe(true);
    expect(registry.allowsFhirServer('epic-a', 'https://fhir.example.org/R4/../admin')).toBe(false);
    expect(registry.allowsFhirServer('epic-a', 'http://169.254.169.254/latest')).toBe(false);
    expect(registry.allowsFhirServer('epic-a', 'not a url')).toBe(false);
    expect(registry.allowsFhirServer('unknown', 'https://fhir.example.org/R4')).toBe(false);
  });

  it('refuses user info, odd schemes and ports the registration does not name, per call', () => {
    expect(registry.allowsFhirServer('epic-a', 'https://evil@fhir.example.org/R4')).toBe(false);
    expect(registry.allowsFhirServer('epic-a', 'https://fhir.example.org:8443/R4')).toBe(false);
    expect(registry.allowsFhirServer('epic-a', 'https://fhir.example.org:443/R4')).toBe(true);
    expect(registry.allowsFhirServer('epic-a', 'http://fhir.example.org/R4')).toBe(false);
    expect(registry.allowsFhirServer('epic-a', 'https://fhir.example.org/R4?x=1')).toBe(false);
  });

  it.each([
    'http://evil@fhir.example.org/R4',
    'https://u:p@fhir.example.org/R4',
    'ftp://fhir.example.org/R4',
    'javascript:alert(1)',
    'https://fhir.example.org/R4#frag',
  ])('refuses the registration of FHIR base %s', (url) => {
    expect(() => ClientRegistry.fromJson({ clients: [{ id: 'x', issuer: 'i', fhirBaseUrls: [url] }] })).toThrow(
      /FHIR base URL must/,
    );
  });

  it('accepts a registration that names its own port', () => {
    const r = ClientRegistry.fromJson({
      clients: [{ id: 'x', issuer: 'i', fhirBaseUrls: ['https://h.example:8443/fhir'] }],
    });
    expect(r.allowsFhirServer('x', 'https://h.example:8443/fhir')).toBe(true);
    expect(r.allowsFhirServer('x', 'https://h.example/fhir')).toBe(false);
  });

  it('limits services and refuses malformed registries', () => {
    expect(registry.allowsService('epic-a', 'meditron-patient-view')).toBe(true);
    expect(registry.allowsService('epic-a', 'meditron-order-sign')).toBe(false);
    expect(() => ClientRegistry.fromJson({ clients: [{ id: 'x y', issuer: 'i' }] })).toThrow();
  });
});
