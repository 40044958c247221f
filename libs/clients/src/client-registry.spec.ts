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

  it('limits services and refuses malformed registries', () => {
    expect(registry.allowsService('epic-a', 'meditron-patient-view')).toBe(true);
    expect(registry.allowsService('epic-a', 'meditron-order-sign')).toBe(false);
    expect(() => ClientRegistry.fromJson({ clients: [{ id: 'x y', issuer: 'i' }] })).toThrow();
  });
});
