import { specExample } from '@app/testing/synthea';
import { classifyPrefetchValue, findPrefetchGaps } from './prefetch-gaps';

const SEARCH = 'Condition?patient={{context.patientId}}';
const READ = 'Patient/{{context.patientId}}';
const bundle = (extra: Record<string, unknown>) => ({ resourceType: 'Bundle', type: 'searchset', ...extra });
const outcomeEntry = (severity: string) => ({
  resource: { resourceType: 'OperationOutcome', issue: [{ severity, code: 'processing' }] },
  search: { mode: 'outcome' },
});

describe('findPrefetchGaps', () => {
  it('finds the key the spec example leaves out', () => {
    const templates = specExample('spec2.0.1_prefetch-templates.json')['prefetch'] as Record<string, string>;
    const prefetch = specExample('spec2.0.1_prefetch-data.json')['prefetch'] as Record<string, unknown>;
    // `user` is sent as the string "123", not a resource: not what the template asks for.
    expect(findPrefetchGaps(templates, prefetch)).toEqual(['diabetes-type2', 'user']);
  });

  it('treats every key as a gap when there is no prefetch', () => {
    expect(findPrefetchGaps({ a: READ, b: SEARCH }, undefined)).toEqual(['a', 'b']);
  });

  it.each<[string, string, unknown, string]>([
    ['a resource for a read', READ, { resourceType: 'Patient', id: '1' }, 'present'],
    ['a searchset with entries', SEARCH, bundle({ entry: [{ resource: { resourceType: 'Condition' } }] }), 'present'],
    ['an empty searchset stating total 0', SEARCH, bundle({ total: 0 }), 'present'],
    ['an empty searchset without total', SEARCH, bundle({}), 'empty'],
    ['an empty searchset with entry: []', SEARCH, bundle({ entry: [] }), 'empty'],
    ['null', SEARCH, null, 'empty'],
    ['null for a read', READ, null, 'empty'],
    ['an OperationOutcome', READ, { resourceType: 'OperationOutcome', issue: [] }, 'error'],
    ['a Bundle with an error outcome entry', SEARCH, bundle({ entry: [outcomeEntry('error')] }), 'error'],
    [
      'a Bundle with a search.mode outcome entry without issues',
      SEARCH,
      bundle({ entry: [{ search: { mode: 'outcome' } }] }),
      'error',
    ],
    [
      'a Bundle with data and an informational outcome',
      SEARCH,
      bundle({ total: 1, entry: [{ resource: { resourceType: 'Condition' } }, outcomeEntry('information')] }),
      'present',
    ],
    ['a Bundle for a read template', READ, bundle({ total: 0 }), 'missing'],
    ['a bare string', READ, '123', 'missing'],
  ])('%s -> %s', (_name, template, value, kind) => {
    expect(classifyPrefetchValue(template, { k: value }, 'k')).toBe(kind);
    expect(findPrefetchGaps({ k: template }, { k: value })).toEqual(kind === 'present' ? [] : ['k']);
  });

  it('does not look at keys the service did not ask for', () => {
    expect(findPrefetchGaps({ a: READ }, { a: { resourceType: 'Patient' }, other: null })).toEqual([]);
  });
});
