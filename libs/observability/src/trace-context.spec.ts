import { childTraceparent, parseTraceparent, requestIdFrom } from '@app/observability';

describe('trace context', () => {
  it('keeps the caller trace id and makes a new span', () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const child = parseTraceparent(childTraceparent(incoming));
    expect(child?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child?.spanId).not.toBe('00f067aa0ba902b7');
    expect(child?.flags).toBe('01');
  });

  it.each([undefined, 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'])(
    'starts a new trace for %s',
    (incoming) => {
      const child = parseTraceparent(childTraceparent(incoming));
      expect(child?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(child?.traceId).not.toMatch(/^0+$/);
    },
  );

  it('never hands out the same span or trace id twice, across refills of the random pool', () => {
    const spans = new Set<string>();
    const traces = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const child = parseTraceparent(childTraceparent(undefined))!;
      expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
      spans.add(child.spanId);
      traces.add(child.traceId);
    }
    expect(spans.size).toBe(2000);
    expect(traces.size).toBe(2000);
  });

  it('keeps plain request ids and replaces anything that could smuggle data into logs', () => {
    expect(requestIdFrom('req-12345678')).toBe('req-12345678');
    expect(requestIdFrom('John Smith DOB 1970-01-01')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
