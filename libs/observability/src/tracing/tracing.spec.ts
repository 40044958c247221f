import { context, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import { parseTraceparent } from '../trace-context';
import { redactUrlAttributes, withoutQuery } from './redaction';
import { tracingConfigured } from './sdk';
import {
  activeTraceHeaders,
  contextFromTraceparent,
  errorType,
  inSpan,
  inSyncSpan,
  outgoingTraceparent,
  SpanKind,
} from './spans';

const INCOMING = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('tracing off (no SDK started)', () => {
  it('is off unless an OTLP endpoint is configured, and off when disabled', () => {
    expect(tracingConfigured({})).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(
      false,
    );
  });

  it('runs the work, forwards the caller’s trace with a new span id, and has no headers of its own', async () => {
    await expect(inSpan('t', 'step', {}, async () => 42)).resolves.toBe(42);
    const out = parseTraceparent(outgoingTraceparent(INCOMING));
    expect(out?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(out?.spanId).not.toBe('b7ad6b7169203331');
    expect(activeTraceHeaders()).toEqual({});
  });

  it('builds no span and no context per step: the work runs in the caller’s context with a span that records nothing', async () => {
    const outside = context.active();
    let inside: unknown;
    const span = await inSpan('t', 'step', { attributes: { 'meditron.request_id': 'r1' } }, async (s) => {
      inside = context.active();
      s.setAttribute('meditron.n', 1);
      return s;
    });
    expect(inside).toBe(outside);
    expect(span.isRecording()).toBe(false);
    expect(trace.getSpan(context.active())).toBeUndefined();
    expect(inSyncSpan('t', 'step', {}, (s) => s)).toBe(span);
    await expect(inSpan('t', 'step', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});

describe('tracing on', () => {
  const exporter = new tracing.InMemorySpanExporter();

  beforeAll(() => {
    new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] }).register();
  });

  beforeEach(() => exporter.reset());

  it('nests spans and sends the active span downstream', async () => {
    let sent = '';
    let headers: Record<string, string> = {};
    await inSpan('meditron-test', 'outer', { attributes: { 'meditron.request_id': 'r1' } }, () =>
      inSpan('meditron-test', 'inner', { kind: SpanKind.CLIENT }, async (span) => {
        sent = outgoingTraceparent(undefined);
        headers = activeTraceHeaders();
        expect(sent).toContain(span.spanContext().spanId);
      }),
    );
    const [inner, outer] = exporter.getFinishedSpans();
    expect(inner?.name).toBe('inner');
    expect(inner?.kind).toBe(SpanKind.CLIENT);
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(outer?.attributes).toEqual({ 'meditron.request_id': 'r1' });
    expect(parseTraceparent(sent)?.spanId).toBe(inner?.spanContext().spanId);
    expect(headers).toEqual({ traceparent: sent });
  });

  it('continues the trace a message names, whatever context is active', async () => {
    await inSpan('meditron-test', 'unrelated', {}, () =>
      inSpan('meditron-test', 'process', { parent: contextFromTraceparent(INCOMING) }, async () => undefined),
    );
    const processed = exporter.getFinishedSpans().find((s) => s.name === 'process');
    expect(processed?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(processed?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
  });

  it('marks a failed span with the error’s code or class, never its message', async () => {
    class CodedError extends Error {
      readonly code = 'no_backend';
    }
    await expect(
      inSpan('meditron-test', 'fails', {}, () => Promise.reject(new CodedError('Patient/123 not found'))),
    ).rejects.toThrow(CodedError);
    await expect(inSpan('meditron-test', 'fails too', {}, () => Promise.reject(new TypeError('x')))).rejects.toThrow();
    const [coded, typed] = exporter.getFinishedSpans();
    expect(coded?.status.code).toBe(2);
    expect(coded?.attributes['error.type']).toBe('no_backend');
    expect(typed?.attributes['error.type']).toBe('TypeError');
    expect(JSON.stringify(exporter.getFinishedSpans().map((s) => [s.attributes, s.events]))).not.toContain('Patient');
    expect(errorType('not an error')).toBe('unknown');
  });

  it('drops query strings from the URL attributes of HTTP spans', () => {
    const span = trace.getTracer('meditron-test').startSpan('GET', {
      attributes: {
        'http.url': 'http://ehr/fhir/AuditEvent?patient=Patient/123',
        'http.target': '/fhir/AuditEvent?patient=Patient/123#x',
        'url.full': 'http://ehr/compliance/audit-events?patientRef=Patient%2F123',
        'url.query': 'patient=Patient/123',
        'url.path': '/fhir/AuditEvent',
      },
    });
    redactUrlAttributes(span);
    span.end();
    expect(exporter.getFinishedSpans()[0]?.attributes).toEqual({
      'http.url': 'http://ehr/fhir/AuditEvent',
      'http.target': '/fhir/AuditEvent',
      'url.full': 'http://ehr/compliance/audit-events',
      'url.query': '',
      'url.path': '/fhir/AuditEvent',
    });
    expect(withoutQuery('/a/b')).toBe('/a/b');
  });
});
