import { notLocal, pgCpuDelta, type Backend, type BackendSample } from './pg-backend-cpu';

const b = (app: string, ticks: number | null, started: number | null = 1): Backend => ({ app, ticks, started });
const sample = (entries: Array<[number, Backend]>): BackendSample => new Map(entries);

describe('pgCpuDelta (Postgres backend CPU per hook, per app)', () => {
  it('counts each backend present at both ends by its growth, summed per app, divided by the hooks answered', () => {
    const start = sample([
      [10, b('meditron-cds-hooks', 100)],
      [11, b('meditron-cds-hooks', 50)],
      [20, b('meditron-gateway', 7)],
    ]);
    const end = sample([
      [10, b('meditron-cds-hooks', 140)],
      [11, b('meditron-cds-hooks', 70)],
      [20, b('meditron-gateway', 9)],
    ]);
    // 60 ticks at 100/s = 600 ms over 100 hooks; 2 ticks = 20 ms.
    expect(pgCpuDelta(start, end, 100, 100)).toEqual({
      msPerHook: { 'meditron-cds-hooks': 6, 'meditron-gateway': 0.2 },
      backends: { start: 3, end: 3, opened: 0, closed: 0 },
    });
  });

  it('counts a backend first seen at the end from 0', () => {
    const start = sample([[10, b('meditron-inference-proxy', 100)]]);
    const end = sample([
      [10, b('meditron-inference-proxy', 110)],
      [12, b('meditron-inference-proxy', 30)],
    ]);
    const d = pgCpuDelta(start, end, 10, 100);
    // 10 ticks of the old one + 30 of the new one = 400 ms over 10 hooks.
    expect(d.msPerHook).toEqual({ 'meditron-inference-proxy': 40 });
    expect(d.backends).toEqual({ start: 1, end: 2, opened: 1, closed: 0 });
  });

  it('leaves out a backend gone by the end (its CPU is lost, never negative)', () => {
    const start = sample([
      [10, b('meditron-cds-hooks', 100)],
      [11, b('meditron-cds-hooks', 500)],
    ]);
    const end = sample([[10, b('meditron-cds-hooks', 120)]]);
    const d = pgCpuDelta(start, end, 20, 100);
    expect(d.msPerHook).toEqual({ 'meditron-cds-hooks': 10 });
    expect(d.backends).toEqual({ start: 2, end: 1, opened: 0, closed: 1 });
  });

  it('treats a reused pid (another start time) as a new backend counted from 0', () => {
    const start = sample([[10, b('meditron-gateway', 900, 1)]]);
    const end = sample([[10, b('meditron-gateway', 5, 2)]]);
    const d = pgCpuDelta(start, end, 1, 100);
    expect(d.msPerHook).toEqual({ 'meditron-gateway': 50 });
    expect(d.backends).toEqual({ start: 1, end: 1, opened: 1, closed: 1 });
  });

  it('makes an app null when one of its backends is unreadable, and leaves the other apps measured', () => {
    const start = sample([
      [10, b('meditron-cds-hooks', 100)],
      [20, b('meditron-gateway', 10)],
    ]);
    const end = sample([
      [10, b('meditron-cds-hooks', 120)],
      [11, b('meditron-cds-hooks', null, null)],
      [20, b('meditron-gateway', 30)],
    ]);
    expect(pgCpuDelta(start, end, 10, 100).msPerHook).toEqual({ 'meditron-cds-hooks': null, 'meditron-gateway': 20 });
  });

  it('gives null per app when no hook was answered', () => {
    const s = sample([[10, b('meditron-cds-hooks', 1)]]);
    expect(pgCpuDelta(s, s, 0, 100).msPerHook).toEqual({ 'meditron-cds-hooks': null });
  });
});

describe('notLocal', () => {
  it('accepts the loopback and a Unix socket, refuses another host', () => {
    expect(notLocal('postgres://postgres@127.0.0.1:5432/postgres')).toBeUndefined();
    expect(notLocal('postgres://postgres@localhost/postgres')).toBeUndefined();
    expect(notLocal('postgres://postgres@[::1]:5432/postgres')).toBeUndefined();
    expect(notLocal('postgres:///postgres?host=/var/run/postgresql')).toBeUndefined();
    expect(notLocal('postgres://postgres@db.example:5432/postgres')).toMatch(/not on this machine/);
  });
});
