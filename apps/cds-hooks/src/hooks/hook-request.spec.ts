import { readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { SPEC_EXAMPLES_DIR, specExample } from '@app/testing/synthea';
import { SUPPORTED_HOOKS, type SupportedHook } from '../discovery/service-catalog';
import { contextResources, hookContextSchemas } from './hook-contexts';
import { describeIssues, hookRequestSchema } from './hook-request.schema';

const files = readdirSync(SPEC_EXAMPLES_DIR).filter((f) => f.endsWith('.json'));
const fullRequests = files.filter(
  (f) => !f.startsWith('docs-LEGACY_') && 'hook' in specExample(f) && 'context' in specExample(f),
);
/** Hook library examples carry only `context`; the hook is in the file name. */
const libraryContexts = files
  .filter((f) => f.startsWith('library'))
  .map((f) => ({ file: f, hook: SUPPORTED_HOOKS.find((h) => f.includes(`_${h}_`)) }))
  .filter((x): x is { file: string; hook: SupportedHook } => x.hook !== undefined);

function validate(hook: SupportedHook, request: Record<string, unknown>) {
  const envelope = hookRequestSchema.safeParse(request);
  if (!envelope.success) return { ok: false as const, problems: describeIssues(envelope.error) };
  const context = hookContextSchemas[hook].safeParse(envelope.data.context);
  return context.success
    ? { ok: true as const, context: context.data }
    : { ok: false as const, problems: describeIssues(context.error, 'context') };
}

describe('CDS Hooks 2.0 request validation against the spec and hook library examples', () => {
  it('finds the examples (../shared/cds-hooks-spec-examples)', () => {
    expect(fullRequests.length).toBeGreaterThanOrEqual(5);
    expect(libraryContexts.length).toBeGreaterThanOrEqual(14);
  });

  it.each(fullRequests.filter((f) => f !== 'spec2.0.1_request-with-extension.json'))(
    'accepts the full request %s',
    (file) => {
      const request = specExample(file);
      const result = validate(request.hook as SupportedHook, request);
      expect(result).toMatchObject({ ok: true });
    },
  );

  it('tolerates extensions, but refuses the extension example because its patient-view context has no patientId', () => {
    // The spec's extension example abbreviates the context; patient-view requires patientId (hook definition).
    const result = validate('patient-view', specExample('spec2.0.1_request-with-extension.json'));
    expect(result).toEqual({
      ok: false,
      problems: [{ expression: 'context.patientId', diagnostics: expect.stringContaining('context.patientId') }],
    });
  });

  it.each(libraryContexts)(
    'accepts the $hook context in $file (DSTU2, STU3 and R4 resources alike)',
    ({ file, hook }) => {
      const request = { hook, hookInstance: randomUUID(), ...specExample(file) };
      expect(validate(hook, request)).toMatchObject({ ok: true });
    },
  );

  it('normalises appointment-book appointments sent as a bare array into a Bundle', () => {
    const example = specExample('library1.0.1_appointment-book_context-STU3-1.json');
    const sent = (example.context as { appointments: unknown[] }).appointments;
    const result = validate('appointment-book', { hook: 'appointment-book', hookInstance: randomUUID(), ...example });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(contextResources(result.context)).toEqual(sent);
      expect(result.context).toMatchObject({ appointments: { resourceType: 'Bundle', type: 'collection' } });
    }
  });

  it('accepts order Bundles without type', () => {
    const request = {
      hook: 'order-sign',
      hookInstance: randomUUID(),
      context: {
        userId: 'Practitioner/1',
        patientId: 'p1',
        draftOrders: { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'MedicationRequest', id: 'm1' } }] },
      },
    };
    expect(validate('order-sign', request)).toMatchObject({ ok: true });
  });

  it('refuses the pre-2.0 opioid order-sign shape (context.medications) naming context.draftOrders', () => {
    const result = validate('order-sign', specExample('docs-LEGACY_opioid-order-sign-request.json'));
    expect(result).toEqual({ ok: false, problems: [expect.objectContaining({ expression: 'context.draftOrders' })] });
  });

  it.each([
    [{ hookInstance: 'nope' }, 'hookInstance'],
    [{ fhirServer: undefined }, 'fhirServer'],
    [{ fhirServer: 'http://evil@fhir.example.org/r4' }, 'fhirServer'],
    [{ fhirServer: 'https://fhir.example.org:evil@127.0.0.1/r4' }, 'fhirServer'],
    [{ fhirServer: 'file:///etc/passwd' }, 'fhirServer'],
    [{ fhirServer: 'https://fhir.example.org/r4?x=1' }, 'fhirServer'],
    [{ context: 'x' }, 'context'],
  ])('refuses a malformed envelope (%o) naming %s without echoing values', (patch, field) => {
    const request: Record<string, unknown> = { ...specExample('spec2.0.1_patient-view-request.json'), ...patch };
    const result = validate('patient-view', request);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.map((p) => p.expression)).toContain(field);
      expect(JSON.stringify(result.problems)).not.toContain('some-opaque-fhir-access-token');
      expect(JSON.stringify(result.problems)).not.toContain('evil');
    }
  });
});
