import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_ID_PATTERN } from './service-id';

describe('SERVICE_ID_PATTERN', () => {
  it.each(['.', '..', '.hidden', '-x', '_x', 'a/b', '%2e%2e', '', 'x'.repeat(101)])('refuses %j', (id) => {
    expect(SERVICE_ID_PATTERN.test(id)).toBe(false);
  });

  it('accepts every id of the shipped catalog', () => {
    const catalog = JSON.parse(
      readFileSync(join(__dirname, '../../../apps/cds-hooks/config/cds-services.json'), 'utf8'),
    ) as { services: Array<{ id: string }> };
    expect(catalog.services.length).toBeGreaterThan(0);
    for (const { id } of catalog.services) expect(SERVICE_ID_PATTERN.test(id)).toBe(true);
    expect(SERVICE_ID_PATTERN.test('meditron.v2_patient-view')).toBe(true);
  });
});
