import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG_DIR, ServiceCatalog, type CdsServiceDefinition } from '../../discovery/service-catalog';
import { resolveSuggestionPolicy } from './suggestion-policy';

const service = (hook: CdsServiceDefinition['hook'], extra: Partial<CdsServiceDefinition> = {}) => ({
  hook,
  mode: 'live' as const,
  ...extra,
});
const policy = resolveSuggestionPolicy(service('order-sign'), DEFAULT_CONFIG_DIR);

describe('suggestion policy (catalog)', () => {
  it('is on with every kind for order hooks, off for the others and in shadow mode, by default', () => {
    expect(policy).toMatchObject({
      enabled: true,
      kinds: ['remove-draft', 'replace-draft', 'order-lab'],
      intent: 'proposal',
    });
    expect(policy.medications.length).toBeGreaterThan(0);
    expect(policy.tests.every((t) => t.system === 'http://loinc.org')).toBe(true);
    expect(resolveSuggestionPolicy(service('order-select'), DEFAULT_CONFIG_DIR).enabled).toBe(true);
    expect(resolveSuggestionPolicy(service('patient-view'), DEFAULT_CONFIG_DIR).enabled).toBe(false);
    expect(resolveSuggestionPolicy(service('order-sign', { mode: 'shadow' }), DEFAULT_CONFIG_DIR).enabled).toBe(false);
    expect(
      resolveSuggestionPolicy(
        service('patient-view', { suggestions: { enabled: true, intent: 'proposal' } }),
        DEFAULT_CONFIG_DIR,
      ),
    ).toMatchObject({ enabled: true, kinds: ['order-lab'], medications: [] });
  });

  it('refuses at start-up draft kinds on a hook without drafts, and a formulary of free text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    const write = (name: string, body: unknown) => {
      writeFileSync(join(dir, name), JSON.stringify(body));
      return join(dir, name);
    };
    const base = { id: 'x', title: 't', description: 'd' };
    expect(() =>
      ServiceCatalog.fromFile(
        write('wrong-hook.json', {
          services: [{ ...base, hook: 'patient-view', suggestions: { enabled: true, kinds: ['remove-draft'] } }],
        }),
      ),
    ).toThrow(/remove-draft and replace-draft need a hook with draft orders/);
    write('free-text.json', {
      medications: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', display: 'something strong' }],
    });
    expect(() =>
      ServiceCatalog.fromFile(
        write('cat.json', {
          services: [{ ...base, hook: 'order-sign', suggestions: { formularyFile: 'free-text.json' } }],
        }),
      ),
    ).toThrow(/formulary .*free-text.json is invalid: medications.0.code/);
    expect(() =>
      ServiceCatalog.fromFile(
        write('doc.json', {
          services: [
            {
              ...base,
              hook: 'order-sign',
              documentation: { label: 'x', url: 'https://docs.example/{{context.patientId}}' },
            },
          ],
        }),
      ),
    ).toThrow(/documentation.url/);
  });

  it('the shipped catalog loads, with suggestions on only for order hooks', () => {
    const catalog = ServiceCatalog.fromFile(join(DEFAULT_CONFIG_DIR, 'cds-services.json'));
    const on = catalog.enabled.filter((s) => catalog.suggestionPolicy(s.id)?.enabled).map((s) => s.hook);
    expect(on.sort()).toEqual(['order-select', 'order-sign']);
  });
});
