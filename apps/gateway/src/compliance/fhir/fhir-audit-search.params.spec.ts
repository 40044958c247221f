import { parseFhirAuditSearch } from './fhir-audit-search.params';

describe('FHIR AuditEvent search parameters', () => {
  it('turns date prefixes into a half-open range at the value precision', () => {
    const q = parseFhirAuditSearch({ date: ['ge2026-01-01', 'le2026-01-31'], patient: '123' });
    expect(q.filters.from?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(q.filters.to?.toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(q.filters.patient).toBe('Patient/123');
    const eq = parseFhirAuditSearch({ date: '2026-03-04T10:00:00Z' });
    expect(eq.filters.from?.toISOString()).toBe('2026-03-04T10:00:00.000Z');
    expect(eq.filters.to?.toISOString()).toBe('2026-03-04T10:00:01.000Z');
    const gt = parseFhirAuditSearch({ date: 'gt2026-03-04' });
    expect(gt.filters.from?.toISOString()).toBe('2026-03-05T00:00:00.000Z');
  });

  it('maps action codes to our actions, and narrows subtype by them', () => {
    expect(parseFhirAuditSearch({ action: 'R' }).filters.actions).toContain('fhir.read');
    expect(parseFhirAuditSearch({ action: 'E' }).filters.excludeActions).toContain('fhir.read');
    expect(parseFhirAuditSearch({ action: 'R', subtype: 'fhir.read,fhir.search' }).filters.actions).toEqual([
      'fhir.read',
    ]);
    expect(parseFhirAuditSearch({ outcome: '4' }).filters.outcome).toBe('refused');
  });

  it('refuses unknown parameters and malformed values', () => {
    for (const q of [
      { name: 'x' },
      { date: 'yesterday' },
      { action: 'X' },
      { _count: '0' },
      { outcome: '2' },
      { date: '2026-01-01T10:00' },
    ]) {
      expect(() => parseFhirAuditSearch(q)).toThrow();
    }
  });
});
