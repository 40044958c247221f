/**
 * Shared by the tracing suite's two modes: the hook call (a Synthea patient, one prefetch gap fetched from a real
 * FHIR server), the fixture patient's identifiers, and the checks on the spans the OTLP receiver got.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelDouble } from '@app/model-double';
import { makeTestKey, registerClients, signToken, type TestKey } from '../support/ehr-tokens';
import { SpanKinds, type AttributeValue, type ReceivedSpan } from '../support/otlp-receiver';
import { FIXTURES_DIR, prefetchFromSynthea } from '../support/synthea';

export const FIXTURE = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
export const SERVICE = 'meditron-patient-view';
export const FHIR_TOKEN = `fhir-token-${randomUUID()}`;
const CLIENT_ID = 'trace-ehr';
const ISSUER = 'https://trace-ehr.e2e.test';

type Json = Record<string, unknown>;

/** OTEL_* variables of every app in the suite: JSON over OTLP/HTTP to the receiver, batches sent quickly. */
export function otelEnv(endpoint: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  };
}

/** The EHR client the calls come from: its key signs the JWTs, the test FHIR server is registered for it. */
export async function registerTraceClient(databaseUrl: string, fhirBaseUrl: string): Promise<TestKey> {
  const key = await makeTestKey('ES384');
  await registerClients(databaseUrl, [
    {
      id: CLIENT_ID,
      issuer: ISSUER,
      tenant: 'default',
      jwks: { keys: [JSON.parse(JSON.stringify(key.publicJwk)) as Record<string, unknown>] },
      allowedJku: [],
      services: ['*'],
      fhirBaseUrls: [fhirBaseUrl],
    },
  ]);
  return key;
}

/** Everything that identifies the fixture's patient: resource id, identifiers (MRN, SSN, ...), names, contacts. */
export function patientIdentifiers(): string[] {
  const bundle = JSON.parse(readFileSync(join(FIXTURES_DIR, FIXTURE), 'utf8')) as { entry: Array<{ resource: Json }> };
  const patient = bundle.entry.map((e) => e.resource).find((r) => r.resourceType === 'Patient')!;
  const values = new Set<string>([String(patient.id)]);
  const collect = (v: unknown, keys: ReadonlySet<string>): void => {
    if (Array.isArray(v)) v.forEach((x) => collect(x, keys));
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (keys.has(k) && typeof x === 'string') values.add(x);
        else if (keys.has(k) && Array.isArray(x)) x.filter((s) => typeof s === 'string').forEach((s) => values.add(s));
        else collect(x, keys);
      }
  };
  collect(patient.identifier, new Set(['value']));
  collect(patient.name, new Set(['family', 'given']));
  collect(patient.telecom, new Set(['value']));
  collect(patient.address, new Set(['line']));
  return [...values].filter((v) => v.length >= 3);
}

/**
 * The patient-view call: Patient, Conditions and MedicationRequests from the fixture, the other keys answered
 * empty, and `immunizations` left out, so cds-hooks fetches it from `fhirServer` (one FHIR search).
 */
export async function callHook(stack: {
  gatewayUrl: string;
  publicBaseUrl: string;
  key: TestKey;
  fhirBaseUrl: string;
}): Promise<Response> {
  const { gatewayUrl, publicBaseUrl, key, fhirBaseUrl } = stack;
  const { patientId, prefetch } = prefetchFromSynthea(FIXTURE);
  const empty = { resourceType: 'Bundle', type: 'searchset', total: 0 };
  const path = `/cds-services/${SERVICE}`;
  const token = await signToken(key, { issuer: ISSUER, audience: `${publicBaseUrl}${path}` });
  return fetch(`${gatewayUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      hook: 'patient-view',
      hookInstance: randomUUID(),
      fhirServer: fhirBaseUrl,
      fhirAuthorization: {
        access_token: FHIR_TOKEN,
        token_type: 'Bearer',
        expires_in: 300,
        scope: 'user/*.read',
        subject: 'meditron',
      },
      context: { userId: 'Practitioner/example', patientId },
      prefetch: {
        ...prefetch,
        allergies: empty,
        labPanels: empty,
        observations: empty,
        vitals: empty,
        procedures: empty,
      },
    }),
  });
}

/**
 * An unauthenticated call whose query string names the fixture patient (as a FHIR search or the compliance audit
 * search would): refused, but its server span is exported, and its URL attributes must have lost the query.
 */
export async function probeWithPatientQuery(gatewayUrl: string): Promise<void> {
  const { patientId } = prefetchFromSynthea(FIXTURE);
  const [, family] = patientIdentifiers();
  const res = await fetch(`${gatewayUrl}/cds-services?patient=${patientId}&name=${encodeURIComponent(family ?? '')}`);
  if (res.status !== 401) throw new Error(`probe: expected 401, got ${res.status}`);
}

/** The probe's server span has arrived (refused with 401). */
export function probeSpan(s: ReceivedSpan): boolean {
  const status = s.attributes['http.status_code'] ?? s.attributes['http.response.status_code'];
  return s.kind === SpanKinds.server && status === 401;
}

export const traceIdOf = (traceparent: string | null): string => {
  const m = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? '');
  if (!m) throw new Error(`no traceparent on the gateway's answer: ${traceparent}`);
  return m[1]!;
};

/** The whole hook's trace has arrived: the model call's span and the gateway's server span have both ended. */
export function traceComplete(traceId: string) {
  return (spans: ReadonlyArray<ReceivedSpan>): boolean => {
    const mine = spans.filter((s) => s.traceId === traceId);
    return (
      mine.some((s) => s.attributes['gen_ai.request.model'] !== undefined) &&
      mine.some((s) => s.kind === SpanKinds.server && s.parentSpanId === '' && s.scope.includes('http'))
    );
  };
}

export class TraceView {
  private readonly byId: Map<string, ReceivedSpan>;

  constructor(readonly spans: ReadonlyArray<ReceivedSpan>) {
    this.byId = new Map(spans.map((s) => [s.spanId, s]));
  }

  /** The one span matching; fails naming the spans there are when there is none or more than one. */
  one(what: string, match: (s: ReceivedSpan) => boolean): ReceivedSpan {
    const found = this.spans.filter(match);
    if (found.length !== 1)
      throw new Error(
        `${found.length} spans for ${what}; spans: ${this.spans.map((s) => `${s.service}/${s.scope}:${s.name}`).join(', ')}`,
      );
    return found[0]!;
  }

  named(name: string, scope?: string): ReceivedSpan {
    return this.one(name, (s) => s.name === name && (scope === undefined || s.scope === scope));
  }

  parentOf(s: ReceivedSpan): ReceivedSpan | undefined {
    return this.byId.get(s.parentSpanId);
  }

  /** True when `ancestor` is on the parent chain of `s`. */
  descends(s: ReceivedSpan, ancestor: ReceivedSpan): boolean {
    for (let p = this.parentOf(s); p; p = this.parentOf(p)) if (p.spanId === ancestor.spanId) return true;
    return false;
  }
}

/** Every string in a span that a patient identifier could hide in: its name, attribute values, events. */
export function spanStrings(s: ReceivedSpan): string[] {
  const out: string[] = [s.name];
  const walk = (v: AttributeValue): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  Object.values(s.attributes).forEach(walk);
  for (const e of s.events) {
    out.push(e.name);
    Object.values(e.attributes).forEach(walk);
  }
  return out;
}

/** The model double's requests carrying `traceId` in their traceparent. */
export function modelCallsIn(double: ModelDouble, traceId: string): Array<{ parentSpanId: string }> {
  return double
    .requests()
    .map((r) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-/.exec(r.headers['traceparent'] ?? ''))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === traceId)
    .map((m) => ({ parentSpanId: m[2]! }));
}
