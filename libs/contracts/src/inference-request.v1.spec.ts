import { randomUUID } from 'node:crypto';
import {
  fromWireHeaders,
  INFERENCE_REQUEST_SCHEMA,
  parseInferenceRequest,
  toWireHeaders,
  type InferenceRequestV1,
} from '@app/contracts';

const valid = (): InferenceRequestV1 => ({
  schema: INFERENCE_REQUEST_SCHEMA,
  requestId: randomUUID(),
  hookInstance: randomUUID(),
  hook: 'patient-view',
  serviceId: 'meditron-patient-view',
  model: 'meditron-70b',
  api: 'completion',
  prompt: '<|im_start|>user\nhello<|im_end|>',
  maxTokens: 256,
  temperature: 0,
  outputSchema: { type: 'object' },
  templateVersion: 'patient-view@1',
  promptHash: 'a'.repeat(64),
  priority: 4,
  deadline: new Date().toISOString(),
});

describe('inference request v1', () => {
  it('round-trips a valid request', () => {
    const msg = valid();
    expect(parseInferenceRequest(Buffer.from(JSON.stringify(msg)))).toEqual({ ok: true, value: msg });
    const stopped = { ...valid(), stop: ['</s>', '###', 'Assistant:', 'User:'] };
    expect(parseInferenceRequest(JSON.stringify(stopped))).toEqual({ ok: true, value: stopped });
  });

  it.each([
    ['not JSON', '{', 'message value is not JSON'],
    ['unknown field', JSON.stringify({ ...valid(), patientName: 'x' }), 'unrecognized_keys'],
    ['bad uuid', JSON.stringify({ ...valid(), requestId: 'nope' }), 'requestId'],
    ['chat without messages', JSON.stringify({ ...valid(), api: 'chat' }), 'chat requests need messages'],
    ['wrong schema version', JSON.stringify({ ...valid(), schema: 'inference-request.v0' }), 'schema'],
    ['more stops than TGI takes', JSON.stringify({ ...valid(), stop: ['a', 'b', 'c', 'd', 'e'] }), 'stop'],
  ])('refuses %s with a reason that names the field, not the value', (_name, raw, reason) => {
    const parsed = parseInferenceRequest(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toContain(reason);
      expect(parsed.reason).not.toContain('patientName: x');
    }
  });

  it('round-trips headers and rejects a missing deadline', () => {
    const wire = toWireHeaders({
      correlationId: 'c1',
      deadlineMs: 1234,
      schema: INFERENCE_REQUEST_SCHEMA,
      traceparent: '00-abc',
    });
    expect(fromWireHeaders(Object.fromEntries(Object.entries(wire).map(([k, v]) => [k, Buffer.from(v)])))).toEqual({
      ok: true,
      headers: { correlationId: 'c1', deadlineMs: 1234, schema: INFERENCE_REQUEST_SCHEMA, traceparent: '00-abc' },
    });
    expect(fromWireHeaders({ 'x-correlation-id': 'c1', 'x-schema': 's' })).toEqual({
      ok: false,
      reason: 'bad header x-deadline-ms',
    });
  });
});
