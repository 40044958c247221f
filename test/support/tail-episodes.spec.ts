// The benchmark's tail attribution (bench/lib/tail-episodes.ts): specced here because the unit-test roots leave
// bench/ out (its *.bench-spec.ts suites are benchmarks, not tests).
import { attributeTail, figuresOf, tailWindows } from '../../bench/lib/tail-episodes';
import { waitLabel, type Interval } from '../../bench/lib/stall-timeline';
import type { StepAnswers } from '../../bench/lib/types';

const START = 1_000_000;

/** 20 ms intervals from `fromMs` (after START), each with the given per-group wait and machine ticks. */
function intervals(
  fromMs: number,
  count: number,
  o: { sutWaitMs?: number; steal?: number; waits?: Record<string, number> | null } = {},
): Interval[] {
  return Array.from({ length: count }, (_, i) => ({
    fromMs: START + fromMs + i * 20,
    toMs: START + fromMs + (i + 1) * 20,
    groups: {
      sut: {
        onCpuNs: 10e6,
        waitNs: (o.sutWaitMs ?? 0) * 1e6,
        mainWaitNs: ((o.sutWaitMs ?? 0) * 1e6) / 2,
        onCpuNsByKind: { main: 6e6, v8: 3e6, libuv: 1e6 },
      },
      postgres: { onCpuNs: 2e6, waitNs: 0, mainWaitNs: 0, onCpuNsByKind: { other: 2e6 } },
    },
    ticks: { busy: 2, steal: o.steal ?? 0, total: 4 },
    psiCpuUs: 5000,
    psiIoUs: 0,
    pgWaits: o.waits === undefined ? { 'on CPU': 1 } : o.waits,
  }));
}

describe('tailWindows', () => {
  it('groups answers over p99 whose [due, due + latency] windows overlap, leaving faster ones out', () => {
    const answers: StepAnswers = {
      startEpochMs: START,
      dueMs: [100, 120, 150, 900, 1000],
      latencyMs: [200, 150, 20, 300, 5],
    };
    expect(tailWindows(answers, 100)).toEqual([
      { fromMs: 100, toMs: 300, answers: 2, maxMs: 200 },
      { fromMs: 900, toMs: 1200, answers: 1, maxMs: 300 },
    ]);
  });

  it('is empty when nothing is over the p99', () => {
    expect(tailWindows({ startEpochMs: START, dueMs: [0, 10], latencyMs: [5, 5] }, 5)).toEqual([]);
  });
});

describe('figuresOf', () => {
  it('gives run-queue wait per 100 ms of wall, busy/steal shares and mean backends per sampled interval', () => {
    const ivs = [
      ...intervals(0, 2, { sutWaitMs: 30, steal: 2, waits: { 'Lock:advisory': 2 } }),
      ...intervals(40, 1, { waits: null }),
    ];
    const w = figuresOf(ivs);
    expect(w.sampledMs).toBe(60);
    // 60 ms of sut wait over 60 ms of wall.
    expect(w.waitPer100Ms.sut).toBe(100);
    expect(w.mainWaitPer100Ms.sut).toBe(50);
    expect(w.onCpuPer100Ms.sut).toBe(50);
    // By thread kind: the SUT's split kept; a Postgres backend's (kind other) left out.
    expect(w.onCpuByKindPer100Ms).toEqual({ sut: { main: 30, v8: 15, libuv: 5 } });
    expect(w.busyPct).toBe(50);
    expect(w.stealPct).toBe(Math.round((4 / 12) * 1000) / 10);
    // 15 ms of PSI over 60 ms.
    expect(w.psiCpuPct).toBe(25);
    // The interval whose query had not come back is not a sample of the backends.
    expect(w.pgSamples).toBe(2);
    expect(w.pgWaits).toEqual({ 'Lock:advisory': 2 });
  });
});

describe('attributeTail', () => {
  it("compares each episode's intervals with the rest of the step's", () => {
    // One slow answer due at 200 ms taking 100 ms; the 200–300 ms intervals had the stall.
    const answers: StepAnswers = {
      startEpochMs: START,
      dueMs: [0, 100, 200, 300, 400],
      latencyMs: [10, 10, 100, 10, 10],
    };
    const ivs = [
      ...intervals(0, 10),
      ...intervals(200, 5, { sutWaitMs: 40, waits: { 'LWLock:WALWrite': 1 } }),
      ...intervals(300, 6),
    ];
    const t = attributeTail(answers, 10, ivs);
    expect(t.episodes).toHaveLength(1);
    expect(t.episodes[0]).toMatchObject({ fromMs: 200, toMs: 300, answers: 1, maxMs: 100 });
    expect(t.episodes[0]!.figures.waitPer100Ms.sut).toBe(200);
    expect(t.episodes[0]!.figures.pgWaits).toEqual({ 'LWLock:WALWrite': 1 });
    expect(t.rest.waitPer100Ms.sut).toBe(0);
    // The rest stops at the last answer (410 ms): 0–200 and 300–420 ms, the episode's 100 ms left out.
    expect(t.rest.sampledMs).toBe(320);
  });
});

describe('waitLabel (a pg_stat_activity row)', () => {
  it('names an active backend by its wait event, or on CPU without one, and any other state by the state', () => {
    expect(waitLabel({ state: 'active', wait_event_type: 'Lock', wait_event: 'advisory' })).toBe('Lock:advisory');
    expect(waitLabel({ state: 'active', wait_event_type: null, wait_event: null })).toBe('on CPU');
    expect(waitLabel({ state: 'idle in transaction', wait_event_type: 'Client', wait_event: 'ClientRead' })).toBe(
      'idle in transaction',
    );
  });
});
