import { AdmissionGate } from './admission-gate';

describe('AdmissionGate', () => {
  it('admits up to the in-flight limit, refuses beyond it, and admits again once a call is done', () => {
    const gate = new AdmissionGate({ maxInFlight: 2, maxEventLoopDelayMs: 0 }, { currentMs: 0 });
    const a = gate.enter();
    const b = gate.enter();
    expect([a.admitted, b.admitted]).toEqual([true, true]);
    expect(gate.enter()).toEqual({ admitted: false, reason: 'in_flight_limit' });
    if (!a.admitted) throw new Error('unreachable');
    a.release();
    a.release(); // twice counts once
    expect(gate.inFlight).toBe(1);
    expect(gate.enter().admitted).toBe(true);
    expect(gate.enter()).toEqual({ admitted: false, reason: 'in_flight_limit' });
  });

  it('refuses while the event loop lags past its bound; 0 switches either check off', () => {
    const delay = { currentMs: 250 };
    expect(new AdmissionGate({ maxInFlight: 0, maxEventLoopDelayMs: 100 }, delay).enter()).toEqual({
      admitted: false,
      reason: 'event_loop_delay',
    });
    delay.currentMs = 50;
    expect(new AdmissionGate({ maxInFlight: 0, maxEventLoopDelayMs: 100 }, delay).enter().admitted).toBe(true);
    const off = new AdmissionGate({ maxInFlight: 0, maxEventLoopDelayMs: 0 }, { currentMs: 10_000 });
    expect(Array.from({ length: 500 }, () => off.enter().admitted).every(Boolean)).toBe(true);
  });

  it('idle() resolves once the last admitted call is done', async () => {
    const gate = new AdmissionGate({ maxInFlight: 4, maxEventLoopDelayMs: 0 }, { currentMs: 0 });
    await gate.idle(60_000); // nothing in flight
    const t = gate.enter();
    if (!t.admitted) throw new Error('unreachable');
    let idle = false;
    const waiting = gate.idle(60_000).then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    t.release();
    await waiting;
    expect(idle).toBe(true);
  });
});
